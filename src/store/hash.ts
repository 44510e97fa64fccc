/** Hashing files already on disk, streamed so that size does not matter. */
import {createHash, type Hash} from 'node:crypto';
import {createReadStream} from 'node:fs';

/** Feed the bytes of `path` into `hash`. */
export async function feedFile(hash: Hash, path: string): Promise<void> {
	for await (const chunk of createReadStream(path)) {
		hash.update(chunk as Buffer);
	}
}

/** Lowercase hex sha512 of the file at `path`. */
export async function sha512File(path: string): Promise<string> {
	const hash = createHash('sha512');
	await feedFile(hash, path);
	return hash.digest('hex');
}
