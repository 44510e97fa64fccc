/**
Sends one file of the tree the way artifacts.elastic.co does, and the way agents,
browsers, caches and other mirrors need: exact Content-Length, no Content-Encoding,
single byte ranges, strong ETags, Last-Modified and conditional requests (the status
and headers come from file-response.ts, shared with the S3 tree).

The file is opened once and everything (size, validators, bytes) comes from that
open descriptor. Sync publishes by rename, so a reader that opened the old file
keeps reading the old bytes to the end, and one that opens after the rename gets
the new file whole: never a mix, never a size that disagrees with the body.
(koa-static stats by path and opens again, which leaves a window for exactly that.)

Two things keep it fast and small. Small files (sidecars, keys) are kept in memory,
keyed by the identity a stat of the path gives (device, inode, size, mtime): a file
published by rename is a new inode, so a stale copy is never served. Large bodies are
pumped through two buffers per response from a pool with one memory budget (32 MiB)
shared by all responses in flight, so a thousand slow clients cost a bounded 32 MiB,
a handful of fast ones get large reads, and buffers are reused rather than freed.
*/
import {createHash} from 'node:crypto';
import {type BigIntStats, close, constants, fstat, lstatSync, open, read} from 'node:fs';
import {promisify} from 'node:util';
import type {Context} from 'koa';
import {createBodyCache} from './body-cache.js';
import {createBufferPool} from './buffer-pool.js';
import {written} from './exchange.js';
import {type FileMeta, prepare, type SendOptions} from './file-response.js';
import {isOpenAt} from './no-links.js';

/** What happened: the file was answered, or the path is missing or a directory. */
export type SendResult = 'sent' | 'missing' | 'directory';

/** Limits of one sender; the defaults suit a server with a few hundred MiB to spare. */
export type SenderOptions = {
	/** Files up to this size are kept in memory (sidecars are a few hundred bytes). */
	readonly smallFileBytes?: number;
	/** Total size of the small-file cache; the least recently used go first. */
	readonly cacheBytes?: number;
	/** Buffer memory shared by all large responses in flight. */
	readonly streamBudgetBytes?: number;
};

/**
Answers GET and HEAD for files of the tree. `file` is a real path (no link in it, as
`resolveInTree` gives it); a link there now, or a file that is not at that path when
opened, is answered as missing: links are never served (no-links.ts).
*/
export type FileSender = ((ctx: Context, file: string, options: SendOptions) => Promise<SendResult>) & {
	/** Bytes of read buffers held by responses being sent now (0 when idle), for metrics. */
	readonly buffersInUse: () => number;
};

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat) as (fd: number, options: {bigint: true}) => Promise<BigIntStats>;

const minChunk = 8 * 1024;
const maxChunk = 1024 * 1024;

type CachedFile = FileMeta & {readonly body: Buffer};

function identityOf(info: BigIntStats): string {
	return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
}

/**
A strong validator from the file's identity, size and nanosecond mtime, in plain
hex: nginx's `"mtime-size"` form has a dash that Elastic Defend's tooling strips.
*/
function metaOf(info: BigIntStats): FileMeta {
	const identity = identityOf(info);
	const lastModified = new Date(Number(info.mtimeMs));
	return {
		identity,
		size: Number(info.size),
		etag: `"${createHash('sha1').update(identity).digest('hex').slice(0, 32)}"`,
		lastModified,
		lastModifiedText: lastModified.toUTCString(),
	};
}

const missingCodes = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);
/** Open for reading, and fail (ELOOP) rather than follow a link in the last component. */
const openFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
One stat by path per request, of the path itself (a link is neither file nor folder). It
is synchronous on purpose: on a local disk it costs microseconds, far less than a round
trip through the thread pool.
*/
function statPath(file: string): BigIntStats | undefined {
	try {
		return lstatSync(file, {bigint: true, throwIfNoEntry: false});
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

async function openFile(file: string): Promise<number | undefined> {
	try {
		const fd = await openAsync(file, openFlags);
		if (isOpenAt(fd, file)) {
			return fd;
		}

		// A folder on the way was replaced by a link since the path was checked.
		await closeAsync(fd);
		return undefined;
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
	return new Promise((resolve, reject) => {
		read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
	});
}

/** Create the file sender of one app. */
export function createFileSender(limits: SenderOptions = {}): FileSender {
	const smallFileBytes = limits.smallFileBytes ?? 64 * 1024;
	const cacheBytes = limits.cacheBytes ?? 32 * 1024 * 1024;
	const pool = createBufferPool({
		budgetBytes: limits.streamBudgetBytes ?? 32 * 1024 * 1024,
		minBytes: minChunk,
		maxBytes: maxChunk,
	});
	const cache = createBodyCache<CachedFile>(cacheBytes);
	let streaming = 0;

	async function pump(ctx: Context, fd: number, start: number, end: number): Promise<void> {
		const res = ctx.res;
		streaming++;
		const buffers: Buffer[] = [];
		let sent = 0;
		ctx.state.bytesSent = () => sent;
		try {
			let position = start;
			let previous: Promise<void> = Promise.resolve();
			for (let turn = 0; position <= end; turn++) {
				// This buffer's last write was awaited before the other buffer's write began.
				// Its size follows the share of the budget now, not when the response began:
				// shrink when more clients arrive, grow when many have left.
				let buffer = buffers[turn % 2];
				if (!buffer || !pool.fits(buffer, streaming)) {
					if (buffer) {
						pool.release(buffer);
					}

					buffer = pool.acquire(streaming);
					buffers[turn % 2] = buffer;
				}

				const bytesRead = await readAt(fd, buffer, Math.min(buffer.length, end - position + 1), position);
				if (bytesRead === 0) {
					// Only a file truncated in place gets here; never end a response short silently.
					throw new Error('file shrank while being sent');
				}

				position += bytesRead;
				await previous;
				previous = written(ctx, buffer.subarray(0, bytesRead));
				previous.then(
					() => {
						sent += bytesRead;
					},
					() => undefined,
				);
			}

			await previous;
			res.end();
		} catch {
			// The client went away (this response's or its request's close: see exchange.ts)
			// or the file broke: cut the connection so that a short body can never pass for
			// a complete one.
			res.destroy();
		} finally {
			streaming--;
			await closeAsync(fd).catch(() => undefined);
			// Every write of these buffers has completed, or the socket is destroyed and
			// nothing more of them goes out (a queued response's pending chunk never leaves:
			// its socket is gone): another response may read into them now.
			for (const buffer of buffers) {
				pool.release(buffer);
			}
		}
	}

	async function sendLarge(ctx: Context, file: string, options: SendOptions): Promise<SendResult> {
		const fd = await openFile(file);
		if (fd === undefined) {
			return 'missing';
		}

		let handedOver = false;
		try {
			const info = await fstatAsync(fd, {bigint: true});
			if (info.isDirectory()) {
				return 'directory';
			}

			if (!info.isFile()) {
				return 'missing';
			}

			const range = prepare(ctx, metaOf(info), options);
			if (range) {
				handedOver = true;
				// The body is written here, past koa's own response handling.
				ctx.respond = false;
				void pump(ctx, fd, range.start, range.end);
			}

			return 'sent';
		} finally {
			if (!handedOver) {
				await closeAsync(fd);
			}
		}
	}

	/** Read a small file whole through one descriptor, so that bytes and identity agree. */
	async function loadSmall(file: string): Promise<CachedFile | 'missing' | 'large'> {
		const fd = await openFile(file);
		if (fd === undefined) {
			return 'missing';
		}

		try {
			const info = await fstatAsync(fd, {bigint: true});
			if (!info.isFile()) {
				return 'missing';
			}

			const meta = metaOf(info);
			if (meta.size > smallFileBytes) {
				return 'large';
			}

			const body = Buffer.alloc(meta.size);
			let filled = 0;
			while (filled < meta.size) {
				const bytesRead = await readAt(fd, body.subarray(filled), meta.size - filled, filled);
				if (bytesRead === 0) {
					break;
				}

				filled += bytesRead;
			}

			return filled === meta.size ? {...meta, body} : 'large';
		} finally {
			await closeAsync(fd);
		}
	}

	const send = async (ctx: Context, file: string, options: SendOptions): Promise<SendResult> => {
		const info = statPath(file);
		if (!info) {
			return 'missing';
		}

		if (info.isDirectory()) {
			return 'directory';
		}

		if (!info.isFile()) {
			return 'missing';
		}

		if (info.size > BigInt(smallFileBytes)) {
			return sendLarge(ctx, file, options);
		}

		let entry = cache.get(file);
		if (entry?.identity !== identityOf(info)) {
			const loaded = await loadSmall(file);
			if (loaded === 'missing') {
				return 'missing';
			}

			if (loaded === 'large') {
				// Replaced by a larger file since the stat: send that one.
				return sendLarge(ctx, file, options);
			}

			entry = loaded;
			cache.set(file, entry);
		}

		const range = prepare(ctx, entry, options);
		if (range) {
			ctx.body = entry.body.subarray(range.start, range.end + 1);
		}

		return 'sent';
	};
	return Object.assign(send, {buffersInUse: pool.lentBytes});
}
