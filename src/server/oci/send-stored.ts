/**
The bytes of one stored blob (a layer, a config, a manifest) under its digest, from
the store the tree reads (directory or object store): exact length, single byte
ranges, `ETag: "<digest>"`, conditional requests; or, when the store offers presigned
URLs (`serve --s3-redirect`), a 307 to one (blobs only; manifests are always streamed).
*/
import type {Context} from 'koa';
import {MirrorError} from '../../errors.js';
import {blobPath} from '../../images/catalog.js';
import {prepare} from '../http/conditional.js';
import type {TreeSource} from '../tree/source.js';

/** How to label the bytes. */
export type StoredAnswer = {
	readonly digest: string;
	readonly contentType: string;
	readonly cacheControl: string;
	/**
	The answer to this URL never changes (asked for by digest). A tag's answer changes when
	the tag moves, to a manifest file that may be older than the one before: its date is no
	validator then, only the digest ETag is.
	*/
	readonly immutable: boolean;
};

/** Immutable: what a digest names never changes. */
export const immutableCache = 'public, max-age=31536000, immutable';

function isConditional(ctx: Context): boolean {
	return Boolean(ctx.get('Range') || ctx.get('If-None-Match') || ctx.get('If-Modified-Since'));
}

/** Answer the file of `answer.digest`; 'missing' when the store does not hold it (nothing sent). */
export async function sendStored(
	ctx: Context,
	source: TreeSource,
	answer: StoredAnswer,
): Promise<'sent' | 'missing'> {
	const relative = blobPath(answer.digest);
	const request = {segments: relative.split('/'), relative, trailingSlash: false};
	const wholeBody = ctx.method === 'GET' && !isConditional(ctx);
	ctx.set('Docker-Content-Digest', answer.digest);
	for (let again = false; ; again = true) {
		const opened = source.open({request, kind: undefined, wholeBody, again});
		const file = opened instanceof Promise ? await opened : opened;
		if (typeof file === 'string') {
			return 'missing';
		}

		// The digest is the strongest validator there is; the file's own ETag would differ per store.
		const meta = {...file.meta, etag: `"${answer.digest}"`};
		const range = prepare(ctx, meta, {
			contentType: answer.contentType,
			cacheControl: answer.cacheControl,
			immutable: answer.immutable,
		});
		if (!range) {
			await file.close();
			return 'sent';
		}

		const sending = file.send(ctx, range);
		if ((sending instanceof Promise ? await sending : sending) === 'sent') {
			return 'sent';
		}

		if (again) {
			throw new MirrorError('ERR_STORE_CHANGED', `${relative} keeps changing in the store`);
		}
	}
}

/** A 307 to a presigned URL of the blob, when `source` offers them; false otherwise. */
export async function redirectStored(ctx: Context, source: TreeSource, digest: string): Promise<boolean> {
	if (!source.redirectUrl) {
		return false;
	}

	const url = await source.redirectUrl(blobPath(digest));
	ctx.set('Docker-Content-Digest', digest);
	ctx.set('Cache-Control', 'no-store');
	ctx.status = 307;
	ctx.set('Location', url);
	ctx.body = '';
	return true;
}
