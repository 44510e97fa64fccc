/**
The two checks a file must pass before it is published, done the way Elastic Agent
does them, so that the mirror never serves something an agent would reject.
*/
import {createReadStream} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {Readable} from 'node:stream';
import * as openpgp from 'openpgp';
import {ChecksumError, SidecarError, SignatureError, UsageError} from '../errors.js';
import type {FileDigests, SignedDigestSpec} from './digest.js';
import {feedFile} from './feed-file.js';
import {createFileHasher} from './hash-pool.js';

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

/** Node's name for each OpenPGP hash algorithm id (RFC 9580 section 9.5). */
const nodeHashNames: Readonly<Record<number, string>> = {
	1: 'md5',
	2: 'sha1',
	3: 'ripemd160',
	8: 'sha256',
	9: 'sha384',
	10: 'sha512',
	11: 'sha224',
	12: 'sha3-256',
	14: 'sha3-512',
};

/** The fields of a signature packet the single pass needs; `hashed` is openpgp's own precomputed-digest slot. */
type SignaturePacketFields = openpgp.SignaturePacket & {
	salt?: Uint8Array | null;
	hashed?: Promise<Uint8Array> | Uint8Array | null;
};

/**
A detached signature read and matched to a trusted key before the file's bytes are
seen, so that one pass over the bytes can feed both the sha512 and the digest the
signature covers.
*/
export type PreparedSignature = {
	readonly fileName: string;
	readonly signature: openpgp.Signature;
	/** Packets whose digest is computed in the pass; empty when `singlePass` is false. */
	readonly packets: readonly SignaturePacketFields[];
	/** What the pass must hash for each of `packets`. */
	readonly specs: readonly SignedDigestSpec[];
	/**
	False for the rare kinds (v5, text signatures) whose digest is not a plain hash of
	the bytes; those are checked by openpgp over a second read of the file.
	*/
	readonly singlePass: boolean;
};

/**
Parse `.asc` text and check that a trusted key made it. Throws SignatureError when
the text holds no signature or only signatures by unknown keys.
*/
export async function prepareSignature(
	armoredSignature: string,
	fileName: string,
	trusted: TrustedKeys,
): Promise<PreparedSignature> {
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

	const packets = [...signature.packets].filter(
		(packet): packet is SignaturePacketFields => packet instanceof openpgp.SignaturePacket,
	);
	const singlePass = packets.every(
		(packet) =>
			(packet.version === 4 || packet.version === 6) &&
			packet.signatureType === openpgp.enums.signature.binary &&
			packet.signatureData !== null &&
			nodeHashNames[packet.hashAlgorithm ?? 0] !== undefined,
	);
	const covered = singlePass ? packets : [];
	const specs = covered.map((packet) => ({
		algorithm: nodeHashNames[packet.hashAlgorithm ?? 0] as string,
		salt: packet.version === 6 ? (packet.salt ?? new Uint8Array()) : new Uint8Array(),
		signatureData: packet.signatureData as Uint8Array,
		version: packet.version,
	}));
	return {fileName, signature, packets: covered, specs, singlePass};
}

/** Feed a file on disk through a hasher: one read for both checks. */
export async function hashFile(path: string, prepared?: PreparedSignature): Promise<FileDigests> {
	const hasher = createFileHasher(prepared?.specs);
	try {
		await feedFile(hasher, path);
	} catch (error) {
		hasher.abort();
		throw error;
	}

	return hasher.finish();
}

/** Feed a stream (an object from a store) through a hasher, as hashFile does a file. */
export async function hashStream(stream: Readable, prepared?: PreparedSignature): Promise<FileDigests> {
	const hasher = createFileHasher(prepared?.specs);
	try {
		for await (const chunk of stream) {
			await hasher.update(chunk as Buffer);
		}
	} catch (error) {
		hasher.abort();
		stream.destroy();
		throw error;
	}

	return hasher.finish();
}

/** The bytes a signature covers, for a second read: a local path, or a way to open them again. */
export type SignedSource = string | (() => Promise<Readable>);

/** openpgp's check over a second read of the file, for signatures the single pass does not cover. */
async function verifyByReading(prepared: PreparedSignature, source: SignedSource, trusted: TrustedKeys) {
	const stream = typeof source === 'string' ? createReadStream(source) : await source();
	const binary = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
	const message = await openpgp.createMessage({binary});
	const result = await openpgp.verify({
		message,
		signature: prepared.signature,
		verificationKeys: trusted.keys,
		format: 'binary',
	});
	// With streamed input the signatures only settle once the data has been read.
	const reader = (result.data as ReadableStream<Uint8Array>).getReader();
	while (!(await reader.read()).done) {
		// Draining; the hash inside openpgp sees every chunk.
	}

	return result.signatures;
}

/**
Check a prepared signature against the digests of the file's bytes (and, for the
rare kinds the single pass does not cover, against a second read of `source`). openpgp
still does everything but hashing: the signed-hash prefix, the public-key math, key
validity at signing time, expiry and rejected algorithms. Throws SignatureError.
*/
export async function checkSignature(
	prepared: PreparedSignature,
	digests: FileDigests,
	source: SignedSource,
	trusted: TrustedKeys,
): Promise<{keyId: string}> {
	let signatures: openpgp.VerifyMessageResult['signatures'];
	if (prepared.singlePass) {
		for (const [index, packet] of prepared.packets.entries()) {
			packet.hashed = digests.signed[index] ?? null;
		}

		// The digests stand in for the message, so its (empty) body is never hashed.
		const message = await openpgp.createMessage({binary: new Uint8Array()});
		const result = await openpgp.verify({
			message,
			signature: prepared.signature,
			verificationKeys: trusted.keys,
			format: 'binary',
		});
		signatures = result.signatures;
	} else {
		signatures = await verifyByReading(prepared, source, trusted);
	}

	let failure: unknown;
	for (const entry of signatures) {
		try {
			await entry.verified;
			return {keyId: entry.keyID.toHex().toUpperCase()};
		} catch (error) {
			failure ??= error;
		}
	}

	if (failure) {
		throw new SignatureError(`bad signature on ${prepared.fileName}: ${(failure as Error).message}`, {
			cause: failure,
		});
	}

	throw new SignatureError(`${prepared.fileName}.asc holds no signature`);
}

/**
Check a detached armored signature over the file at `path` against the trusted keys,
reading the file once. Returns the signer and the file's sha512 from the same pass.
Throws SignatureError when the signature is malformed, made by an unknown key, or
does not match the bytes.
*/
export async function verifySignature(
	path: string,
	fileName: string,
	armoredSignature: string,
	trusted: TrustedKeys,
): Promise<{keyId: string; sha512: string}> {
	const prepared = await prepareSignature(armoredSignature, fileName, trusted);
	const digests = await hashFile(path, prepared);
	const {keyId} = await checkSignature(prepared, digests, path, trusted);
	return {keyId, sha512: digests.sha512};
}
