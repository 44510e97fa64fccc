/**
ETags and 304s for generated bodies (pages, listings, JSON), so that browsers,
caches and polling scripts revalidate cheaply. Files of the tree get theirs from
conditional.ts.
*/
import {createHash} from 'node:crypto';
import type {Middleware} from 'koa';

/** Hash the body of a 200 that has no ETag yet; answer 304 when the client's copy is current. */
export function conditionalBody(): Middleware {
	return async (ctx, next) => {
		await next();
		if (ctx.status !== 200 || ctx.response.get('ETag')) {
			return;
		}

		let body: string | Buffer;
		if (typeof ctx.body === 'string' || Buffer.isBuffer(ctx.body)) {
			body = ctx.body;
		} else if (ctx.body && typeof ctx.body === 'object' && !('pipe' in ctx.body)) {
			body = JSON.stringify(ctx.body);
			ctx.body = body;
			ctx.type = 'application/json; charset=utf-8';
		} else {
			return;
		}

		ctx.set('ETag', `"${createHash('sha1').update(body).digest('hex')}"`);
		if (ctx.fresh) {
			ctx.status = 304;
		}
	};
}
