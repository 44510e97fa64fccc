/** Folder listings of the tree as answers: HTML, or JSON on `Accept: application/json`. */
import type {Context} from 'koa';
import {shortCache} from '../../store/headers.js';
import type {TreeRequest} from '../http/request-path.js';
import {type ListingEntry, listingPage} from '../views/listing.js';

/** Folders first, then files, by name with numbers in order. */
export function sortListing(entries: ListingEntry[]): ListingEntry[] {
	return entries.sort(
		(a, b) =>
			(a.type === b.type ? 0 : a.type === 'directory' ? -1 : 1) ||
			a.name.localeCompare(b.name, 'en', {numeric: true}),
	);
}

/** Answer a folder listing (HTML, or JSON on `Accept: application/json`); 404 when `entries` is undefined. */
export function sendListing(ctx: Context, request: TreeRequest, entries: ListingEntry[] | undefined): void {
	if (!entries) {
		ctx.throw(404, 'not found');
	}

	ctx.state.route = 'listing';
	ctx.set('Cache-Control', shortCache);
	ctx.vary('Accept');
	if (ctx.accepts('html', 'json') === 'json') {
		const base = `/${request.segments.map(encodeURIComponent).join('/')}/`;
		// Absolute under the public URL, which may have a path of its own.
		const origin = (ctx.state as {publicUrl?: () => string}).publicUrl?.() ?? '';
		ctx.body = {
			path: base,
			entries: entries.map((entry) => ({
				...entry,
				url: `${origin}${base}${encodeURIComponent(entry.name)}${entry.type === 'directory' ? '/' : ''}`,
			})),
		};
		return;
	}

	ctx.type = 'text/html; charset=utf-8';
	ctx.body = listingPage(
		request.segments,
		entries,
		(ctx.state as {metricsLink?: boolean}).metricsLink ?? true,
	);
}
