/**
The trusted keys signatures must verify against, and the check of a key file the
mirror serves: it must hold only trusted keys, as `gpg --import` would read it.
*/
import {readFile} from 'node:fs/promises';
import * as openpgp from 'openpgp';
import {SignatureError, UsageError} from '../errors.js';

/** The keys signatures must verify against, loaded once per run. */
export type TrustedKeys = {
	readonly keys: openpgp.PublicKey[];
	/** Uppercase fingerprints of every primary key and subkey. */
	readonly fingerprints: ReadonlySet<string>;
};

function fingerprintsOf(keys: readonly openpgp.Key[]): string[] {
	return keys.flatMap((key) => [
		key.getFingerprint().toUpperCase(),
		...key.subkeys.map((subkey) => subkey.getFingerprint().toUpperCase()),
	]);
}

/** Read armored public keys. Throws a UsageError naming the file. */
export async function loadTrustedKeys(paths: readonly string[]): Promise<TrustedKeys> {
	const keys: openpgp.PublicKey[] = [];
	for (const path of paths) {
		let armored: string;
		try {
			armored = await readFile(path, 'utf8');
		} catch (error) {
			throw new UsageError(
				`cannot read trusted key ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
			);
		}

		try {
			const read = await openpgp.readKeys({armoredKeys: armored});
			keys.push(...read.map((key) => key.toPublic()));
		} catch (error) {
			throw new UsageError(`${path} is not an armored PGP public key: ${(error as Error).message}`);
		}
	}

	return {keys, fingerprints: new Set(fingerprintsOf(keys))};
}

const armorLine = /^-----(BEGIN|END) PGP ([A-Z0-9 ,/]+)-----\s*$/;

/**
The armored public key blocks of a key file, every one of them. openpgp reads only
the first block of a text, while `gpg --import` reads them all, so a file that is a
trusted key followed by another must be seen whole. Anything but public key blocks
and blank lines (a private key, a message, stray text or binary) is refused: what
gpg would make of it is not worth guessing.
*/
export function publicKeyBlocks(text: string): string[] {
	const blocks: string[] = [];
	let current: string[] | undefined;
	for (const line of text.split(/\r?\n/)) {
		const armor = armorLine.exec(line);
		if (current) {
			current.push(line);
			if (armor?.[1] === 'END' && armor[2] === 'PUBLIC KEY BLOCK') {
				blocks.push(current.join('\n'));
				current = undefined;
			} else if (armor) {
				throw new SignatureError(`a key block holds "${line.trim()}" before its end`);
			}
		} else if (armor?.[1] === 'BEGIN' && armor[2] === 'PUBLIC KEY BLOCK') {
			current = [line];
		} else if (armor) {
			throw new SignatureError(`holds a "${armor[2]}", not only public keys`);
		} else if (line.trim() !== '') {
			throw new SignatureError('holds text outside its armored key blocks');
		}
	}

	if (current) {
		throw new SignatureError('its last key block has no end line');
	}

	if (blocks.length === 0) {
		throw new SignatureError('holds no armored public key block');
	}

	return blocks;
}

/**
Whether an armored key file holds only trusted keys: every primary key and subkey
in every armored block must be one of the trusted keys (`gpg --import` of the file
imports them all). Returns the primary fingerprints it holds, and which keys
(primary or sub) are not trusted. Throws when the file is not only public key blocks.
*/
export async function checkKeyFile(
	armored: string,
	trusted: TrustedKeys,
): Promise<{fingerprints: string[]; untrusted: string[]}> {
	const keys: openpgp.Key[] = [];
	for (const block of publicKeyBlocks(armored)) {
		keys.push(...(await openpgp.readKeys({armoredKeys: block})));
	}

	// An untrusted primary is named alone; under a trusted one, each untrusted subkey.
	const untrusted = keys.flatMap((key) =>
		trusted.fingerprints.has(key.getFingerprint().toUpperCase())
			? fingerprintsOf([key]).filter((fingerprint) => !trusted.fingerprints.has(fingerprint))
			: [key.getFingerprint().toUpperCase()],
	);
	return {
		fingerprints: [...new Set(keys.map((key) => key.getFingerprint().toUpperCase()))],
		untrusted: [...new Set(untrusted)],
	};
}
