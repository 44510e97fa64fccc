/**
One pass over an artifact's bytes, on the hashing workers: the sha512 and the digest
each of its signatures covers. Bytes come from a file, a stream, or either.
*/
import {createReadStream} from 'node:fs';
import type {Readable} from 'node:stream';
import type {FileDigests} from './digest.js';
import {createFileHasher} from './hash-pool.js';
import type {PreparedSignature, SignedSource} from './signature.js';

/**
Feed the bytes of `path` into `hash` (a node:crypto Hash or a FileHasher). A hasher
that returns a promise is waited for, so that a hashing worker never has more than
its bound of the file queued.
*/
export async function feedFile(hash: {update(chunk: Uint8Array): unknown}, path: string): Promise<void> {
	for await (const chunk of createReadStream(path, {highWaterMark: 1024 * 1024})) {
		await hash.update(chunk as Buffer);
	}
}

/** Feed a file on disk through a hasher: one read for both checks. */
async function hashFile(path: string, prepared?: PreparedSignature): Promise<FileDigests> {
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
async function hashStream(stream: Readable, prepared?: PreparedSignature): Promise<FileDigests> {
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

/** Hash the bytes wherever they are: a local path, or an opener returning a stream. */
export async function hashSource(source: SignedSource, prepared?: PreparedSignature): Promise<FileDigests> {
	return typeof source === 'string' ? hashFile(source, prepared) : hashStream(await source(), prepared);
}
