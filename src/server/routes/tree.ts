/**
The mirror tree at upstream's paths: files (artifacts, sidecars, keys) through
send-file, folders as listings (HTML, or JSON on `Accept: application/json`).
Runs after the router, for every path it did not take.
*/
import type {Dirent} from 'node:fs';
import {lstat, readdir} from 'node:fs/promises';
import path from 'node:path';
import type {Context, Middleware} from 'koa';
import {classifyPath} from '../../agent/catalog.js';
import {cacheControlFor, contentTypeFor, isImmutableFile, shortCache} from '../../store/headers.js';
import type {Layout} from '../../store/layout.js';
import {resolveInTree} from '../no-links.js';
import type {TreeRequest} from '../request-path.js';
import {createFileSender} from '../send-file.js';
import {type ListingEntry, listingPage} from '../views/listing.js';

/** Folders first, then files, by name with numbers in order. */
export function sortListing(entries: ListingEntry[]): ListingEntry[] {
	return entries.sort(
		(a, b) =>
			(a.type === b.type ? 0 : a.type === 'directory' ? -1 : 1) ||
			a.name.localeCompare(b.name, 'en', {numeric: true}),
	);
}

async function readListing(folder: string): Promise<ListingEntry[] | undefined> {
	let dirents: Dirent[];
	try {
		dirents = await readdir(folder, {withFileTypes: true});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR') {
			return undefined;
		}

		throw error;
	}

	const entries = await Promise.all(
		dirents
			.filter((dirent) => !dirent.name.startsWith('.') && (dirent.isFile() || dirent.isDirectory()))
			.map(async (dirent): Promise<ListingEntry | undefined> => {
				try {
					// Not followed: an entry replaced by a link since readdir is left out.
					const info = await lstat(path.join(folder, dirent.name));
					if (!info.isFile() && !info.isDirectory()) {
						return undefined;
					}

					return {
						name: dirent.name,
						type: info.isDirectory() ? 'directory' : 'file',
						size: info.isDirectory() ? undefined : info.size,
						modified: info.mtime.toISOString(),
					};
				} catch {
					// Removed between readdir and stat (a prune or a replace): leave it out.
					return undefined;
				}
			}),
	);
	return sortListing(entries.filter((entry): entry is ListingEntry => entry !== undefined));
}

/**
Where a folder asked for without its slash is: relative to the request (`beats/`
from `/downloads/beats`), so it stays below a proxy's path prefix.
*/
export function folderRedirect(segments: readonly string[], query: string): string {
	return `${encodeURIComponent(segments.at(-1) ?? '')}/${query}`;
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

/** The tree handler for the mirror at `mirror`, and the read buffers its responses hold now. */
export function treeRoutes(mirror: Layout): {tree: Middleware; buffersInUse: () => number} {
	const sendFile = createFileSender();
	const tree: Middleware = async (ctx) => {
		const request = ctx.state.tree as TreeRequest;
		if (request.segments.length === 0) {
			ctx.throw(404, 'not found');
		}

		const kind = request.trailingSlash ? undefined : classifyPath(request.relative);
		if (!request.trailingSlash) {
			ctx.state.route = kind?.kind ?? 'file';
		}

		// Links are neither served nor listed, wherever they point (no-links.ts).
		const file = resolveInTree(mirror.root, request.segments);
		if (!file) {
			return ctx.throw(404, 'not found');
		}

		if (request.trailingSlash) {
			sendListing(ctx, request, await readListing(file));
			return;
		}

		const result = await sendFile(ctx, file, {
			contentType: contentTypeFor(request.segments.at(-1) ?? ''),
			cacheControl: cacheControlFor(kind),
			immutable: isImmutableFile(kind),
		});
		if (result === 'missing') {
			ctx.throw(404, 'not found');
		}

		if (result === 'directory') {
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
	return {tree, buffersInUse: sendFile.buffersInUse};
}
