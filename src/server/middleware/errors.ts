/**
The one place that decides what a client sees when something goes wrong: a short
message in the form the client asked for, the status, and nothing about the
server's paths or internals. Unexpected errors are logged in full, answered 500.
*/
import type {Context, Middleware} from 'koa';
import type {Logger} from 'pino';
import {escapeHtml} from '../views/html.js';
import {pageCsp, rootOf} from '../views/layout.js';

const clientGone = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Whether `error` only means the client went away mid-response. */
export function isClientAbort(error: unknown): boolean {
	return clientGone.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Headers worth keeping from a failed response (405's Allow, 416's Content-Range). */
const keep = new Set(['allow', 'content-range', 'vary']);

/** Write the error response for `status` with a short `message`. */
export function respondError(ctx: Context, status: number, message: string): void {
	for (const name of ctx.res.getHeaderNames()) {
		if (!keep.has(name)) {
			ctx.res.removeHeader(name);
		}
	}

	ctx.status = status;
	ctx.set('Cache-Control', 'no-store');
	ctx.set('X-Content-Type-Options', 'nosniff');
	switch (ctx.accepts('text', 'json', 'html')) {
		case 'json': {
			ctx.body = {error: {status, message}};
			break;
		}

		case 'html': {
			ctx.set('Content-Security-Policy', pageCsp);
			ctx.type = 'text/html; charset=utf-8';
			ctx.body = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${status} ${escapeHtml(message)}</title><link rel="stylesheet" href="${rootOf(ctx.path)}assets/app.css"><main class="error-page"><h1>${status}</h1><p>${escapeHtml(message)}</p><p><a href="${rootOf(ctx.path)}">Back to the catalogue</a></p></main></html>`;
			break;
		}

		default: {
			ctx.type = 'text/plain; charset=utf-8';
			ctx.body = `${message}\n`;
		}
	}
}

/** The error middleware. */
export function handleErrors(logger: Logger | undefined): Middleware {
	return async (ctx, next) => {
		try {
			await next();
			if (ctx.status === 404 && ctx.body === undefined) {
				respondError(ctx, 404, 'not found');
			}
		} catch (error) {
			if (ctx.headerSent || isClientAbort(error)) {
				return;
			}

			const httpError = error as {status?: number; expose?: boolean; message?: string};
			const status =
				httpError.status && httpError.status >= 400 && httpError.status < 600 ? httpError.status : 500;
			if (status >= 500) {
				logger?.error({msg: 'request failed', url: ctx.originalUrl, err: error});
			}

			respondError(
				ctx,
				status,
				status < 500 && httpError.expose ? String(httpError.message) : 'internal error',
			);
		}
	};
}
