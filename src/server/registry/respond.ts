/**
How Elastic's registry writes its answers (handler.go, http.Error), so that Kibana
and another mirror see the same statuses, bodies and cache headers from this one:
errors as one text line, JSON with the registry's cache lifetimes, and the CORS
header its middleware puts on every route.
*/
import type {Context} from 'koa';
import {escapeHtml} from '../views/html.js';

/**
Cache lifetimes in seconds: the registry's (main.go defaults), except that search
and categories answers live a minute, not ten: a sync changes them, and a cache in
front of Kibana should see that soon.
*/
export const cacheSeconds = {index: 10, search: 60, categories: 60, catchAll: 600} as const;

/** `Cache-Control` as the registry's cacheHeaders adds it: two header lines. */
export function cacheHeaders(ctx: Context, seconds: number): void {
	ctx.set('Cache-Control', [`max-age=${seconds}`, 'public']);
}

/** Every registry route allows any origin (util.CORSMiddleware). */
export function corsHeader(ctx: Context): void {
	ctx.set('Access-Control-Allow-Origin', '*');
}

/**
http.Error: the message and a newline as text/plain. `noCache` adds the registry's
noCacheHeaders (its 400s and most 404s); without it, headers set before stay.
*/
export function registryError(ctx: Context, status: 400 | 404 | 500, message: string, noCache = true): void {
	if (noCache) {
		ctx.set('Cache-Control', ['max-age=0', 'private, no-store']);
	}

	ctx.remove('ETag');
	ctx.remove('Last-Modified');
	ctx.remove('Content-Range');
	ctx.status = status;
	ctx.type = 'text/plain; charset=utf-8';
	ctx.body = `${message}\n`;
}

/** A JSON answer with the registry's Content-Type (no charset) and cache lifetime. */
export function registryJson(ctx: Context, body: Buffer, seconds: number): void {
	cacheHeaders(ctx, seconds);
	ctx.status = 200;
	ctx.body = body;
	ctx.set('Content-Type', 'application/json');
}

/**
A 301 to the same route with or without its trailing slash, as gorilla/mux's
StrictSlash answers. The location is relative to the request, so it stays below a
reverse proxy's path prefix.
*/
export function slashRedirect(ctx: Context, location: string): void {
	const query = ctx.querystring ? `?${ctx.querystring}` : '';
	ctx.status = 301;
	ctx.redirect(`${location}${query}`);
	ctx.type = 'text/html; charset=utf-8';
	ctx.body = `<a href="${escapeHtml(location + query)}">Moved Permanently</a>.\n\n`;
}
