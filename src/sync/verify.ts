/**
The two checks a file must pass before it is published, done the way Elastic Agent
does them, so that the mirror never serves something an agent would reject.
*/
import {createReadStream} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {Readable} from 'node:stream';
import * as openpgp from 'openpgp';
import {ChecksumError, SidecarError, SignatureError, UsageError} from '../errors.js';

const sha512Hex = /^[0-9a-f]{128}$/;

/**
The hash a `.sha512` sidecar gives for `fileName`, read as the agent reads it: each
line split on white space must have exactly two fields, `<hash> <name>` with an
optional `*` before the name, and the name must be the file's base name. A bare hash
is rejected, because the agent rejects it.
*/
export function parseSha512Sidecar(text: string, fileName: string): string {
	if (text.includes('\0')) {
		throw new SidecarError(`${fileName}.sha512 is not text`);
	}

	for (const line of text.split('\n')) {
		const fields = line.trim().split(/\s+/);
		if (fields.length !== 2) {
			continue;
		}

		const [hash = '', rawName = ''] = fields;
		const name = rawName.startsWith('*') ? rawName.slice(1) : rawName;
		if (name !== fileName) {
			continue;
		}

		// The agent compares against Go's lowercase hex encoding, byte for byte.
		if (!sha512Hex.test(hash)) {
			throw new SidecarError(
				`${fileName}.sha512 is malformed: "${hash.slice(0, 20)}..." is not a lowercase sha512`,
			);
		}

		return hash;
	}

	throw new SidecarError(
		`${fileName}.sha512 is malformed: no "<sha512>  ${fileName}" line (the agent needs one)`,
	);
}

/** Compare a computed digest with the sidecar's. */
export function checkSha512(fileName: string, actual: string, expected: string): void {
	if (actual !== expected) {
		throw new ChecksumError(
			`sha512 mismatch for ${fileName}: upstream sidecar says ${expected.slice(0, 16)}..., file is ${actual.slice(0, 16)}...`,
		);
	}
}

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

/**
Whether an armored key file holds only trusted keys. Returns the fingerprints it
holds, and which of them are not trusted.
*/
export async function checkKeyFile(
	armored: string,
	trusted: TrustedKeys,
): Promise<{fingerprints: string[]; untrusted: string[]}> {
	const keys = await openpgp.readKeys({armoredKeys: armored});
	const primaries = keys.map((key) => key.getFingerprint().toUpperCase());
	return {
		fingerprints: primaries,
		untrusted: primaries.filter((fingerprint) => !trusted.fingerprints.has(fingerprint)),
	};
}

/**
Check a detached armored signature over the file at `path` against the trusted keys.
Throws SignatureError when the signature is malformed, made by an unknown key, or
does not match the bytes.
*/
export async function verifySignature(
	path: string,
	fileName: string,
	armoredSignature: string,
	trusted: TrustedKeys,
): Promise<{keyId: string}> {
	let signature: openpgp.Signature;
	try {
		signature = await openpgp.readSignature({armoredSignature});
	} catch (error) {
		throw new SignatureError(`${fileName}.asc is not an armored PGP signature`, {cause: error});
	}

	const signerIds = signature.getSigningKeyIDs();
	const known = signerIds.some((id) => trusted.keys.some((key) => key.getKeys(id).length > 0));
	if (!known) {
		const signers = signerIds.map((id) => id.toHex().toUpperCase()).join(', ');
		throw new SignatureError(
			`${fileName}.asc is signed by key ${signers || '(none)'}, which is not a trusted key`,
		);
	}

	const binary = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
	const message = await openpgp.createMessage({binary});
	const result = await openpgp.verify({message, signature, verificationKeys: trusted.keys, format: 'binary'});
	// With streamed input the signatures only settle once the data has been read.
	const reader = (result.data as ReadableStream<Uint8Array>).getReader();
	while (!(await reader.read()).done) {
		// Draining; the hash inside openpgp sees every chunk.
	}

	let failure: unknown;
	for (const entry of result.signatures) {
		try {
			await entry.verified;
			return {keyId: entry.keyID.toHex().toUpperCase()};
		} catch (error) {
			failure ??= error;
		}
	}

	if (failure) {
		throw new SignatureError(`bad signature on ${fileName}: ${(failure as Error).message}`, {cause: failure});
	}

	throw new SignatureError(`${fileName}.asc holds no signature`);
}
