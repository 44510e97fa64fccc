/** Headers on every response, and the method and path rules every request passes. */
import type {Middleware} from 'koa';
import {isRefusal, parseRequestPath} from '../http/request-path.js';
import {pageCsp} from '../views/layout.js';

/** nosniff everywhere; a strict CSP on HTML; `Connection: close` while draining. */
export function securityHeaders(isDraining: () => boolean): Middleware {
	return async (ctx, next) => {
		ctx.set('X-Content-Type-Options', 'nosniff');
		ctx.set('Referrer-Policy', 'no-referrer');
		await next();
		// A plain prefix test: type-is parsing on every file response costs more than it says.
		if (String(ctx.response.get('Content-Type') ?? '').startsWith('text/html')) {
			ctx.set('Content-Security-Policy', pageCsp);
		}

		if (isDraining()) {
			ctx.set('Connection', 'close');
		}
	};
}

/** The mirror is read-only: GET and HEAD only, 405 with `Allow` for the rest. */
export function readOnly(): Middleware {
	return async (ctx, next) => {
		if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
			ctx.set('Allow', 'GET, HEAD');
			ctx.throw(405, 'method not allowed');
		}

		await next();
	};
}

/**
Refuse malformed and hidden paths for every route, before any handler sees them;
the parsed path is left in `ctx.state.tree` for the file handler.
*/
export function checkPath(): Middleware {
	return async (ctx, next) => {
		const parsed = parseRequestPath(ctx.path);
		if (isRefusal(parsed)) {
			ctx.state.route = 'refused';
			ctx.throw(parsed.status, parsed.message);
		}

		ctx.state.tree = parsed;
		await next();
	};
}
