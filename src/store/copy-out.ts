/**
Copying one tree file out of a store to a local path, hashed on the way: for the
commands that need the bytes as a local file (verify's zip and Defend checks,
package-paths), whatever the backend. One read gives the copy, its size and sha512.
*/
import {createHash} from 'node:crypto';
import {createWriteStream} from 'node:fs';
import {Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import type {StoreReader} from './store.js';

/** Copy `relative` to `target` (created with `mode`), resolving with the size and sha512 of what was copied. */
export async function copyOut(
	store: Pick<StoreReader, 'openRead'>,
	relative: string,
	target: string,
	mode = 0o600,
): Promise<{size: number; sha512: string}> {
	const hash = createHash('sha512');
	let size = 0;
	await pipeline(
		await store.openRead(relative),
		new Transform({
			transform(chunk: Buffer, _encoding, callback) {
				size += chunk.length;
				hash.update(chunk);
				callback(null, chunk);
			},
		}),
		createWriteStream(target, {mode}),
	);
	return {size, sha512: hash.digest('hex')};
}
