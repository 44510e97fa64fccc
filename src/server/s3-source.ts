/**
What `serve --store s3://...` serves from: the store, its index and the tree routes,
built once. A module of its own so that the AWS SDK is loaded only by servers that
use it: a directory mirror's server does not carry its memory.
*/
import type {Middleware} from 'koa';
import type {Logger} from 'pino';
import {createS3Store, type S3Store} from '../store/s3/client.js';
import type {S3Location} from '../store/s3/location.js';
import type {BlockCacheStats} from './block-cache.js';
import {s3TreeRoutes} from './routes/s3-tree.js';
import {createS3Index, type S3Index} from './s3-index.js';

/** The pieces of the app that read the object store. */
export type S3Source = {
	readonly store: S3Store;
	readonly index: S3Index;
	readonly tree: Middleware;
	/** What the shared artifact blocks hold and did, when there are any. */
	readonly blockStats: (() => BlockCacheStats) | undefined;
};

/** How to serve from the store. */
export type S3SourceOptions = {
	readonly location: S3Location;
	/** 302 artifact downloads to presigned URLs. */
	readonly redirect: boolean;
	/** How often each server looks for a new manifest. */
	readonly refreshMs: number;
	/** Memory for shared artifact blocks (default 64 MiB; 0: stream each download). */
	readonly blockCacheBytes?: number | undefined;
	readonly logger?: Logger | undefined;
};

/** Check the bucket can be read (StoreAccessError otherwise) and build the source. */
export async function openS3Source(options: S3SourceOptions): Promise<S3Source> {
	const store = createS3Store(options.location);
	try {
		await store.checkAccess();
	} catch (error) {
		store.close();
		throw error;
	}

	const index = createS3Index(store, options.refreshMs, options.logger);
	const {tree, blockStats} = s3TreeRoutes(store, index, {
		redirect: options.redirect,
		blockCacheBytes: options.blockCacheBytes,
	});
	return {store, index, tree, blockStats};
}
