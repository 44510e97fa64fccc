/**
Large JSON answers (the artifact list of a big mirror runs to tens of MiB): written
in slices that give the event loop back between them, streamed to the client as
they are made, and kept per snapshot so the next request for the same answer is a
buffer. Downloads running meanwhile are not held up by the build.

The ETag is known before the body is: the text is a function of the snapshot and
the key, so it names those (with a nonce of this process, so that no other process
or restart can give the same ETag to a different text).
*/
import {createHash, randomBytes} from 'node:crypto';
import {Readable} from 'node:stream';
import {setImmediate as nextTurn} from 'node:timers/promises';
import type {Context} from 'koa';
import type {Snapshot} from './mirror-index.js';
import {type BodyCache, createBodyCache} from './tree/body-cache.js';

type Cached = {readonly body: Buffer};

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

/** Keep at most `maxBytes` of answers per snapshot; larger answers are streamed each time. */
export function createJsonAnswers(maxBytes: number): JsonAnswers {
	const caches = new WeakMap<Snapshot, BodyCache<Cached>>();
	const ids = new WeakMap<Snapshot, number>();
	let nextId = 0;
	const etagOf = (snapshot: Snapshot, key: string) => {
		let id = ids.get(snapshot);
		if (id === undefined) {
			id = nextId++;
			ids.set(snapshot, id);
		}

		return `"${createHash('sha1').update(`${nonce}\n${id}\n${key}`).digest('hex')}"`;
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
			ctx.type = 'application/json; charset=utf-8';
			ctx.set('ETag', etagOf(snapshot, key));
			// Koa answers `fresh` only for a 2xx status, and none is set before a body is.
			ctx.status = 200;
			if (ctx.fresh) {
				ctx.status = 304;
				return true;
			}

			const cache = cacheOf(snapshot);
			const hit = cache.get(key);
			if (hit) {
				ctx.body = hit.body;
				return true;
			}

			let sent = 0;
			async function* build() {
				const chunks: Buffer[] = [];
				for (const piece of pieces()) {
					const chunk = Buffer.from(piece);
					sent += chunk.length;
					if (sent <= maxBytes) {
						chunks.push(chunk);
					}

					yield chunk;
					// Each slice is a few milliseconds of work: let downloads and other requests in.
					await nextTurn();
				}

				if (sent <= maxBytes) {
					cache.set(key, {body: Buffer.concat(chunks)});
				}
			}

			ctx.state.bytesSent = () => sent;
			ctx.body = Readable.from(build());
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
