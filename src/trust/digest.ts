/**
The hashes one pass over a file feeds: the sha512 every artifact needs, and the digest
each of its signatures covers. Plain data in, so that the same code runs on the main
thread and in the hashing workers.
*/
import {createHash, type Hash} from 'node:crypto';

/** What one signature packet needs hashed after the file's bytes (RFC 9580 section 5.2.4). */
export type SignedDigestSpec = {
	/** Node's hash name ('sha512', 'sha256', ...). */
	readonly algorithm: string;
	/** v6 signatures hash a salt before the data; empty otherwise. */
	readonly salt: Uint8Array;
	/** The packet's hashed area, hashed after the data. */
	readonly signatureData: Uint8Array;
	readonly version: number;
	/** A plain digest of the bytes (an image blob's sha256): no salt, no trailer. */
	readonly plain?: boolean | undefined;
};

/** What one pass over a file yields. */
export type FileDigests = {
	/** Lowercase hex sha512 of the bytes. */
	readonly sha512: string;
	/** The digest each signature packet covers, in packet order. */
	readonly signed: readonly Uint8Array[];
};

/** Hashes fed chunk by chunk on this thread. */
export type LocalHasher = {
	update(chunk: Uint8Array): void;
	finish(): FileDigests;
};

/**
Hash on this thread. The sha512 doubles as a signature's hash when the signature
uses unsalted SHA-512 (Elastic's do): at the end it is copied and the copy gets the
signature's trailer, so each byte is hashed once. Other algorithms (or a v6 salt)
get a hash of their own, still fed by the same pass.
*/
export function createLocalHasher(specs: readonly SignedDigestSpec[] = []): LocalHasher {
	const sha512 = createHash('sha512');
	const extra = new Map<string, Hash>();
	const sources = specs.map((spec): Hash => {
		if (spec.algorithm === 'sha512' && spec.salt.length === 0) {
			return sha512;
		}

		const key = `${spec.algorithm}:${Buffer.from(spec.salt).toString('hex')}`;
		let hash = extra.get(key);
		if (!hash) {
			hash = createHash(spec.algorithm).update(spec.salt);
			extra.set(key, hash);
		}

		return hash;
	});
	return {
		update(chunk) {
			sha512.update(chunk);
			for (const hash of extra.values()) {
				hash.update(chunk);
			}
		},
		finish() {
			const signed = specs.map((spec, index) => {
				if (spec.plain) {
					return new Uint8Array((sources[index] as Hash).copy().digest());
				}

				const trailer = Buffer.alloc(6);
				trailer[0] = spec.version;
				trailer[1] = 0xff;
				trailer.writeUInt32BE(spec.signatureData.length, 2);
				// A copy per packet: the same bytes may carry several signatures.
				const source = sources[index] as Hash;
				return new Uint8Array(source.copy().update(spec.signatureData).update(trailer).digest());
			});
			return {sha512: sha512.digest('hex'), signed};
		},
	};
}
