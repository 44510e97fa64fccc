/**
Detached PGP signatures, checked the way Elastic Agent checks them. A signature is
read and matched to a trusted key before the bytes are seen, so that one pass over
the bytes feeds both the sha512 and the digest the signature covers.
*/
import {createReadStream} from 'node:fs';
import {Readable} from 'node:stream';
import * as openpgp from 'openpgp';
import {SignatureError} from '../errors.js';
import type {FileDigests, SignedDigestSpec} from './digest.js';
import type {TrustedKeys} from './keys.js';

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
	/** The signature file as users know it (`<file>.asc`, `<zip>.sig`). */
	readonly signatureName: string;
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
Parse a detached signature's armored text (`signatureName`, by default `<fileName>.asc`) and check that a trusted key made it. Throws SignatureError when
the text holds no signature or only signatures by unknown keys.
*/
export async function prepareSignature(
	armoredSignature: string,
	fileName: string,
	trusted: TrustedKeys,
	signatureName = `${fileName}.asc`,
): Promise<PreparedSignature> {
	let signature: openpgp.Signature;
	try {
		signature = await openpgp.readSignature({armoredSignature});
	} catch (error) {
		throw new SignatureError(`${signatureName} is not an armored PGP signature`, {cause: error});
	}

	const signerIds = signature.getSigningKeyIDs();
	const known = signerIds.some((id) => trusted.keys.some((key) => key.getKeys(id).length > 0));
	if (!known) {
		const signers = signerIds.map((id) => id.toHex().toUpperCase()).join(', ');
		throw new SignatureError(
			`${signatureName} is signed by key ${signers || '(none)'}, which is not a trusted key`,
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
	return {fileName, signatureName, signature, packets: covered, specs, singlePass};
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

	throw new SignatureError(`${prepared.signatureName} holds no signature`);
}
