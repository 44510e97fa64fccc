/**
The mirror tree at upstream's paths, the same for every store: files (artifacts,
sidecars, keys) with exact Content-Length, no Content-Encoding, single byte ranges,
strong ETags, Last-Modified and conditional requests; folders as listings (HTML, or
JSON on `Accept: application/json`). Runs after the router, for every path it did not
take.

Every HTTP decision is made here once; the source (source.ts) is asked only for store
things. Headers and bytes of one response always come from one version of a file: when
the store replaced it between the two (a SNAPSHOT re-published), the response starts
over once.
*/
import type {Context, Middleware} from 'koa';
import {classifyPath, type PathKind} from '../../agent/catalog.js';
import {MirrorError} from '../../errors.js';
import {isImmutableFile, treeFileHeaders} from '../../store/headers.js';
import {prepare} from '../http/conditional.js';
import type {TreeRequest} from '../http/request-path.js';
import {sendListing} from './listing.js';
import type {TreeSource} from './source.js';

/**
Where a folder asked for without its slash is: relative to the request (`beats/`
from `/downloads/beats`), so it stays below a proxy's path prefix.
*/
function folderRedirect(segments: readonly string[], query: string): string {
	return `${encodeURIComponent(segments.at(-1) ?? '')}/${query}`;
}

function isConditional(ctx: Context): boolean {
	return Boolean(ctx.get('Range') || ctx.get('If-None-Match') || ctx.get('If-Modified-Since'));
}

/** Answer the file at `request` from `source`: status, headers and (unless not needed) its bytes. */
async function sendFile(
	ctx: Context,
	source: TreeSource,
	request: TreeRequest,
	kind: PathKind | undefined,
): Promise<'sent' | 'missing' | 'folder'> {
	const {contentType, cacheControl} = treeFileHeaders(request.relative, kind);
	const headers = {contentType, cacheControl, immutable: isImmutableFile(kind, request.relative)};
	const wholeBody = ctx.method === 'GET' && !isConditional(ctx);
	for (let again = false; ; again = true) {
		// Awaited only when a promise: most sidecars are answered from memory.
		const opened = source.open({request, kind, wholeBody, again});
		const file = opened instanceof Promise ? await opened : opened;
		if (typeof file === 'string') {
			return file;
		}

		const range = prepare(ctx, file.meta, headers);
		if (!range) {
			await file.close();
			return 'sent';
		}

		const sending = file.send(ctx, range);
		if ((sending instanceof Promise ? await sending : sending) === 'sent') {
			return 'sent';
		}

		if (again) {
			throw new MirrorError('ERR_STORE_CHANGED', `${request.relative} keeps changing in the store`);
		}

		// Replaced between its headers and its bytes: start over once.
		for (const name of ctx.res.getHeaderNames()) {
			ctx.res.removeHeader(name);
		}
	}
}

/** The tree middleware over `source`. */
export function treeHandler(source: TreeSource): Middleware {
	return async (ctx) => {
		const request = ctx.state.tree as TreeRequest;
		// Image blobs are reachable only through the registry API (/v2/), which checks names.
		if (request.segments.length === 0 || request.segments[0] === 'oci') {
			ctx.throw(404, 'not found');
		}

		await source.beforeRequest?.();
		if (request.trailingSlash) {
			sendListing(ctx, request, await source.list(request));
			return;
		}

		const kind = classifyPath(request.relative);
		ctx.state.route = kind?.kind ?? 'file';
		// Only a GET: the presigned URL is signed for GET, and the store refuses a HEAD on it.
		if (kind?.kind === 'artifact' && source.redirectUrl && ctx.method === 'GET') {
			const url = await source.redirectUrl(request.relative);
			ctx.state.download = kind.ref;
			ctx.set('Cache-Control', 'no-store');
			ctx.redirect(url);
			return;
		}

		const result = await sendFile(ctx, source, request, kind);
		if (result === 'missing') {
			ctx.throw(404, 'not found');
		}

		if (result === 'folder') {
			ctx.state.route = 'listing';
			const query = ctx.querystring ? `?${ctx.querystring}` : '';
			ctx.status = 301;
			ctx.redirect(folderRedirect(request.segments, query));
			return;
		}

		if (kind?.kind === 'artifact') {
			ctx.state.download = kind.ref;
		}
	};
}
