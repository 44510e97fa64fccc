/**
Bytes of one object version streamed from the store. Bodies are streamed with
backpressure, never buffered whole. Headers and bytes of one response come from one
version: a plain GET gives both at once; otherwise the headers come first (a HEAD)
and the bytes on condition that the object is still the one described (`If-Match`).
*/
import type {Context} from 'koa';
import {MirrorError} from '../../errors.js';
import type {ObjectStream, S3Store} from '../../store/s3/client.js';
import {type BodyStream, pipeTo, pumpBody} from '../http/body.js';
import type {ByteRange, FileMeta} from '../http/conditional.js';
import {metaOf} from './s3-meta.js';
import type {TreeFile} from './source.js';

/** Whether `error` says the store no longer holds the version asked for. */
export function isChanged(error: unknown): boolean {
	return error instanceof MirrorError && error.code === 'ERR_STORE_CHANGED';
}

/** Bytes `range` of the object version `meta` describes; 'changed' when it is gone or replaced. */
export async function openRange(
	store: S3Store,
	relative: string,
	meta: FileMeta,
	range: ByteRange,
): Promise<ObjectStream | 'changed'> {
	const whole = range.start === 0 && range.end === meta.size - 1;
	try {
		const object = await store.getStream(relative, {
			range: whole ? undefined : `bytes=${range.start}-${range.end}`,
			ifMatch: meta.identity,
		});
		if (object?.etag === meta.identity) {
			return object;
		}

		object?.body.destroy();
		return 'changed';
	} catch (error) {
		if (isChanged(error)) {
			return 'changed';
		}

		throw error;
	}
}

/** Send the store's `body` as the response body. */
function streamBody(ctx: Context, body: BodyStream): void {
	void pumpBody(ctx, (count) => pipeTo(ctx, body, count));
}

/** The version of `relative` that `meta` (from a HEAD) describes; its bytes are asked for on condition. */
export function headedFile(store: S3Store, relative: string, meta: FileMeta): TreeFile {
	return {
		meta,
		async send(ctx, range) {
			const object = await openRange(store, relative, meta, range);
			if (object === 'changed') {
				return 'changed';
			}

			streamBody(ctx, object.body);
			return 'sent';
		},
		close: async () => undefined,
	};
}

/**
The version one GET is answering with, its body already coming: for the common
download of a whole file, headers and bytes from one request to the store.
*/
export function fetchedFile(object: ObjectStream): TreeFile {
	return {
		meta: metaOf(object),
		send(ctx) {
			streamBody(ctx, object.body);
			return 'sent';
		},
		close: async () => object.body.destroy(),
	};
}
