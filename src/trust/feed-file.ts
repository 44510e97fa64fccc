/** Hashing files already on disk, streamed so that size does not matter. */
import {createReadStream} from 'node:fs';

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
