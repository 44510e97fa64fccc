/**
Status and headers of one file response, whatever store it comes from: validators,
conditional requests and single byte ranges (RFC 9110), from what one version of the
file is (its identity, size, ETag and date).
*/
import parseRange from 'range-parser';

/**
What `prepare` reads and writes of a response: a koa Context, or the fast path's
stand-in for one (fast-files.ts), which sets the same headers in the same order.
*/
export type ResponseTarget = {
	readonly method: string;
	get(field: string): string;
	set(field: string, value: string): void;
	status: number;
	body: unknown;
	length: number;
};

/** How to label the response, and whether its dates are validators. */
export type SendOptions = {
	readonly contentType: string;
	readonly cacheControl: string;
	/**
	The file never changes under its name (`isImmutableFile`). Only then do
	`If-Modified-Since` and a date in `If-Range` count: a SNAPSHOT rebuilt with upstream's
	same Last-Modified has new bytes under the old date, and only its ETag tells.
	*/
	readonly immutable: boolean;
};

/** What headers and validators come from: one identity of one file. */
export type FileMeta = {
	readonly identity: string;
	readonly size: number;
	readonly etag: string;
	readonly lastModified: Date;
	/** The header value, formatted once per file rather than per request. */
	readonly lastModifiedText: string;
};

/** Bytes `start`..`end` of a file, both included. */
export type ByteRange = {readonly start: number; readonly end: number};

/** RFC 9110 If-Range: a strong ETag match, or an exact Last-Modified date of an immutable file. */
function ifRangeMatches(ifRange: string, meta: FileMeta, immutable: boolean): boolean {
	if (ifRange.startsWith('"') || ifRange.startsWith('W/')) {
		return ifRange === meta.etag;
	}

	const date = Date.parse(ifRange);
	return immutable && !Number.isNaN(date) && date === Math.floor(meta.lastModified.getTime() / 1000) * 1000;
}

/**
Whether the client's copy is current (RFC 9110 13.2.2): `If-None-Match` decides when
present (weak comparison, `*` matches); `If-Modified-Since` counts only for immutable
files; a request with `Cache-Control: no-cache` always gets the body.
*/
function isFresh(ctx: ResponseTarget, meta: FileMeta, immutable: boolean): boolean {
	if (/(?:^|,)\s*no-cache\s*(?:,|$)/.test(ctx.get('Cache-Control'))) {
		return false;
	}

	const noneMatch = ctx.get('If-None-Match');
	if (noneMatch) {
		const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
		return noneMatch.trim() === '*' || noneMatch.split(',').some((tag) => opaque(tag) === opaque(meta.etag));
	}

	const since = Date.parse(ctx.get('If-Modified-Since'));
	return immutable && !Number.isNaN(since) && Math.floor(meta.lastModified.getTime() / 1000) * 1000 <= since;
}

/**
Set the status and headers for `meta`, answering conditionals and ranges. Returns the
byte range to send, or undefined when the response is complete without a body.
*/
export function prepare(ctx: ResponseTarget, meta: FileMeta, options: SendOptions): ByteRange | undefined {
	ctx.status = 200;
	ctx.set('Accept-Ranges', 'bytes');
	ctx.set('ETag', meta.etag);
	ctx.set('Last-Modified', meta.lastModifiedText);
	ctx.set('Cache-Control', options.cacheControl);
	ctx.set('Content-Type', options.contentType);
	if (isFresh(ctx, meta, options.immutable)) {
		ctx.status = 304;
		return undefined;
	}

	let start = 0;
	let end = meta.size - 1;
	const range = ctx.get('Range');
	const ifRange = ctx.get('If-Range');
	if (range && (!ifRange || ifRangeMatches(ifRange, meta, options.immutable))) {
		const ranges = parseRange(meta.size, range, {combine: true});
		if (ranges === -1) {
			ctx.status = 416;
			ctx.set('Content-Range', `bytes */${meta.size}`);
			ctx.set('Cache-Control', 'no-store');
			ctx.set('Content-Type', 'text/plain; charset=utf-8');
			ctx.body = 'range not satisfiable\n';
			return undefined;
		}

		// Malformed, non-byte and multi-range requests get the whole file, which
		// RFC 9110 allows; no client of a mirror asks for multipart ranges.
		const [only] = ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1 ? [] : ranges;
		if (only) {
			start = only.start;
			end = only.end;
			ctx.status = 206;
			ctx.set('Content-Range', `bytes ${start}-${end}/${meta.size}`);
		}
	}

	const length = end - start + 1;
	if (ctx.method === 'HEAD' || length === 0) {
		// An empty body first: koa would otherwise reset the length to 0.
		ctx.body = '';
		ctx.length = length;
		return undefined;
	}

	ctx.length = length;
	return {start, end};
}
