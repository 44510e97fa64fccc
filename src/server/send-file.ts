/**
Sends one file of the tree the way artifacts.elastic.co does, and the way agents,
browsers, caches and other mirrors need: exact Content-Length, no Content-Encoding,
single byte ranges, strong ETags, Last-Modified and conditional requests.

The file is opened once and everything (size, validators, bytes) comes from that
open descriptor. Sync publishes by rename, so a reader that opened the old file
keeps reading the old bytes to the end, and one that opens after the rename gets
the new file whole: never a mix, never a size that disagrees with the body.
(koa-static stats by path and opens again, which leaves a window for exactly that.)
*/
import {createHash} from 'node:crypto';
import {type FileHandle, open} from 'node:fs/promises';
import type {Context} from 'koa';
import parseRange from 'range-parser';

/** How to label the response. */
export type SendOptions = {
	readonly contentType: string;
	readonly cacheControl: string;
};

/** What happened: the file was answered, or the path is missing or a directory. */
export type SendResult = 'sent' | 'missing' | 'directory';

/**
A strong validator from the file's identity, size and nanosecond mtime, in plain
hex: nginx's `"mtime-size"` form has a dash that Elastic Defend's tooling strips.
*/
function etagOf(info: {dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint}): string {
	const digest = createHash('sha1').update(`${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`);
	return `"${digest.digest('hex').slice(0, 32)}"`;
}

/** RFC 9110 If-Range: a strong ETag match, or an exact Last-Modified date. */
function ifRangeMatches(ifRange: string, etag: string, lastModified: Date): boolean {
	if (ifRange.startsWith('"') || ifRange.startsWith('W/')) {
		return ifRange === etag;
	}

	const date = Date.parse(ifRange);
	return !Number.isNaN(date) && date === Math.floor(lastModified.getTime() / 1000) * 1000;
}

async function openFile(file: string): Promise<FileHandle | undefined> {
	try {
		return await open(file, 'r');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') {
			return undefined;
		}

		throw error;
	}
}

/** Answer a GET or HEAD for `file`. */
export async function sendFile(ctx: Context, file: string, options: SendOptions): Promise<SendResult> {
	const handle = await openFile(file);
	if (!handle) {
		return 'missing';
	}

	let handedOver = false;
	try {
		const info = await handle.stat({bigint: true});
		if (info.isDirectory()) {
			return 'directory';
		}

		if (!info.isFile()) {
			return 'missing';
		}

		const size = Number(info.size);
		const etag = etagOf(info);
		const lastModified = new Date(Number(info.mtimeMs));
		ctx.status = 200;
		ctx.set('Accept-Ranges', 'bytes');
		ctx.set('ETag', etag);
		ctx.lastModified = lastModified;
		ctx.set('Cache-Control', options.cacheControl);
		ctx.type = options.contentType;
		if (ctx.fresh) {
			ctx.status = 304;
			return 'sent';
		}

		let start = 0;
		let end = size - 1;
		const range = ctx.get('Range');
		const ifRange = ctx.get('If-Range');
		if (range && (!ifRange || ifRangeMatches(ifRange, etag, lastModified))) {
			const ranges = parseRange(size, range, {combine: true});
			if (ranges === -1) {
				ctx.status = 416;
				ctx.set('Content-Range', `bytes */${size}`);
				ctx.set('Cache-Control', 'no-store');
				ctx.type = 'text/plain; charset=utf-8';
				ctx.body = 'range not satisfiable\n';
				return 'sent';
			}

			// Malformed, non-byte and multi-range requests get the whole file, which
			// RFC 9110 allows; no client of a mirror asks for multipart ranges.
			const [only] = ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1 ? [] : ranges;
			if (only) {
				start = only.start;
				end = only.end;
				ctx.status = 206;
				ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
			}
		}

		const length = end - start + 1;
		if (ctx.method === 'HEAD' || length === 0) {
			ctx.body = '';
		} else {
			const stream = handle.createReadStream({start, end, highWaterMark: 256 * 1024});
			handedOver = true;
			ctx.body = stream;
			ctx.state.bytesSent = () => stream.bytesRead;
		}

		ctx.length = length;
		return 'sent';
	} finally {
		if (!handedOver) {
			await handle.close();
		}
	}
}
