/**
How `/v2/` answers: the API version header on every answer, the spec's error JSON,
and `n`/`last` pagination with a `Link: <...>; rel="next"` header (tags and catalog).
*/
import type {Context} from 'koa';

/** The header every `/v2/` answer carries, errors included. */
export function apiVersion(ctx: Context): void {
	ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
}

/** An error as the distribution spec writes it: `{"errors":[{"code","message"}]}`. */
export function ociError(ctx: Context, status: number, code: string, message: string): void {
	ctx.status = status;
	ctx.set('Cache-Control', 'no-store');
	ctx.type = 'application/json';
	// Koa leaves the body out of a HEAD answer and keeps its length.
	ctx.body = JSON.stringify({errors: [{code, message}]});
}

/** A small JSON answer that is never cached (it follows the mirror's syncs). */
export function ociJson(ctx: Context, value: unknown): void {
	ctx.status = 200;
	ctx.type = 'application/json';
	ctx.set('Cache-Control', 'no-cache');
	ctx.body = JSON.stringify(value);
}

/**
One page of `sorted` after `last`, at most `n` (all when absent); sets `Link` when more
follow. Undefined when `n` is not a number the spec allows (the caller answers 400).
*/
export function paginate(ctx: Context, sorted: readonly string[], base: string): string[] | undefined {
	const nText = ctx.query.n;
	const lastText = ctx.query.last;
	if (Array.isArray(nText) || Array.isArray(lastText)) {
		return undefined;
	}

	const n = nText === undefined || nText === '' ? undefined : Number(nText);
	if (n !== undefined && !(Number.isInteger(n) && n >= 0)) {
		return undefined;
	}

	const after = lastText ? sorted.filter((each) => each > lastText) : [...sorted];
	if (n === undefined || after.length <= n) {
		return after;
	}

	const page = after.slice(0, n);
	const last = page.at(-1);
	if (last !== undefined) {
		ctx.set('Link', `<${base}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`);
	}

	return page;
}

/** Code-point order, as distribution lists tags and repositories. */
export function sortedNames(names: Iterable<string>): string[] {
	return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
