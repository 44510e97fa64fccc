/**
Large JSON answers (the artifact list of a big mirror runs to tens of MiB): written
in slices that give the event loop back between them, streamed to the client as
they are made, and kept per snapshot, gzipped, so the next request for the same
answer is a buffer sent as it is to a client that accepts gzip. For one that does
not, an answer up to 16 MiB is kept as text too; a larger one is inflated on the
way out (by zlib, off the event loop): gzipped, the 69 MiB answer of 100,000
artifacts is kept in 2.5 MiB, which keeps the server within its memory budget. Downloads running meanwhile are not held up by the build.

The ETag is known before the body is: the text is a function of the snapshot and
the key, so it names those (with a nonce of this process, so that no other process
or restart can give the same ETag to a different text), and the encoding, since the
gzipped bytes are another representation.
*/
import {createHash, randomBytes} from 'node:crypto';
import {PassThrough, Readable} from 'node:stream';
import {setImmediate as nextTurn} from 'node:timers/promises';
import {constants, createGunzip, createGzip} from 'node:zlib';
import type {Context} from 'koa';
import type {Snapshot} from './mirror-index.js';
import {type BodyCache, createBodyCache} from './tree/body-cache.js';

/**
A finished answer: gzipped, and as text too when that is small (`body` is what the
cache's budget counts: the text when kept, else the gzipped bytes); `size` is the
length of the text.
*/
type Cached = {
	readonly body: Buffer;
	readonly gzipped: Buffer;
	readonly text?: Buffer;
	readonly size: number;
};

/** Answers up to this size are kept as text too, for clients that do not take gzip. */
const defaultTextMaxBytes = 16 * 1024 * 1024;

const nonce = randomBytes(8).toString('hex');

/** Sends JSON answers from the cache, or builds and streams them. */
export type JsonAnswers = {
	/**
	Answer `ctx` with the JSON that `pieces` spell out for `snapshot`, cached under
	`key` (which must name everything the text depends on). Returns whether it came
	from the cache (or was a 304).
	*/
	readonly send: (ctx: Context, snapshot: Snapshot, key: string, pieces: () => Iterable<string>) => boolean;
};

/** The text of `pieces`, one slice per turn of the event loop. */
async function* slices(pieces: () => Iterable<string>, made: (chunk: Buffer) => void) {
	for (const piece of pieces()) {
		const chunk = Buffer.from(piece);
		made(chunk);
		yield chunk;
		// Each slice is a few milliseconds of work: let downloads and other requests in.
		await nextTurn();
	}
}

/**
Keep at most `maxBytes` of answers per snapshot (larger ones are built each time);
answers up to `textMaxBytes` are kept as text beside their gzipped bytes.
*/
export function createJsonAnswers(maxBytes: number, textMaxBytes = defaultTextMaxBytes): JsonAnswers {
	const caches = new WeakMap<Snapshot, BodyCache<Cached>>();
	const ids = new WeakMap<Snapshot, number>();
	let nextId = 0;
	const etagOf = (snapshot: Snapshot, key: string, gzip: boolean) => {
		let id = ids.get(snapshot);
		if (id === undefined) {
			id = nextId++;
			ids.set(snapshot, id);
		}

		const hash = createHash('sha1').update(`${nonce}\n${id}\n${key}`).digest('hex');
		return gzip ? `"${hash}-gzip"` : `"${hash}"`;
	};
	const cacheOf = (snapshot: Snapshot) => {
		let cache = caches.get(snapshot);
		if (!cache) {
			cache = createBodyCache<Cached>(maxBytes);
			caches.set(snapshot, cache);
		}

		return cache;
	};

	return {
		send(ctx, snapshot, key, pieces) {
			const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
			ctx.type = 'application/json; charset=utf-8';
			ctx.vary('Accept-Encoding');
			ctx.set('ETag', etagOf(snapshot, key, gzip));
			// Koa answers `fresh` only for a 2xx status, and none is set before a body is.
			ctx.status = 200;
			if (ctx.fresh) {
				ctx.status = 304;
				return true;
			}

			const cache = cacheOf(snapshot);
			const hit = cache.get(key);
			if (hit) {
				if (gzip) {
					ctx.set('Content-Encoding', 'gzip');
					ctx.body = hit.gzipped;
				} else if (hit.text) {
					ctx.body = hit.text;
				} else {
					// Large chunks: a 69 MiB answer in 16 KiB ones is 4,400 trips to the zlib thread and as many turns of the event loop, each waiting behind other requests.
					ctx.body = Readable.from([hit.gzipped]).pipe(createGunzip({chunkSize: 1024 * 1024}));
					ctx.length = hit.size;
				}

				return true;
			}

			// The text goes to the client and, gzipped, to the cache; the gzipped bytes
			// go to a client that accepts them.
			let size = 0;
			const textChunks: Buffer[] = [];
			const text = Readable.from(
				slices(pieces, (chunk) => {
					size += chunk.length;
					if (size <= textMaxBytes) {
						textChunks.push(chunk);
					}
				}),
			);
			const packed = createGzip({level: constants.Z_BEST_SPEED});
			const kept: Buffer[] = [];
			let keptBytes = 0;
			packed.on('data', (chunk: Buffer) => {
				keptBytes += chunk.length;
				if (keptBytes <= maxBytes) {
					kept.push(chunk);
				}
			});
			const out = new PassThrough();
			// The answer ends once it is cached, so the client's next request finds it there.
			packed.on('end', () => {
				const gzipped = Buffer.concat(kept, keptBytes);
				const whole = size <= textMaxBytes ? Buffer.concat(textChunks, size) : undefined;
				if ((whole ?? gzipped).length <= maxBytes) {
					cache.set(key, {body: whole ?? gzipped, gzipped, text: whole, size});
				}

				if (!gzip) {
					out.end();
				}
			});
			for (const stream of [text, packed]) {
				stream.on('error', (error) => out.destroy(error));
			}

			text.pipe(packed);
			if (gzip) {
				ctx.set('Content-Encoding', 'gzip');
				packed.pipe(out);
			} else {
				text.pipe(out, {end: false});
			}

			ctx.state.bytesSent = () => (gzip ? keptBytes : size);
			ctx.body = out;
			return false;
		},
	};
}

/** `items` as the pieces of a JSON array's elements, `size` at a time, comma-separated. */
export function* arrayPieces<T>(
	items: readonly T[],
	toJson: (item: T) => unknown,
	size = 500,
): Generator<string> {
	for (let start = 0; start < items.length; start += size) {
		const slice = items.slice(start, start + size).map((item) => JSON.stringify(toJson(item)));
		yield (start > 0 ? ',' : '') + slice.join(',');
	}
}
