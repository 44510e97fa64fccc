/**
The tree in an object store, for the tree handler, and what `serve --store s3://...`
serves from: the store, its index and the tree, built once. Loaded only by servers
that use a store, so that a directory mirror's server does not carry the AWS SDK.

Sidecars and Defend manifest zips come from one GET each (s3-sidecars.ts); artifacts
and Defend artifacts from blocks shared by every download (s3-blocks.ts), after a HEAD
shared by every request (s3-meta.ts), or (agent artifacts only: Endpoint is not known
to follow redirects) as a redirect to a presigned URL; other files from one GET, or
from a HEAD then a GET of that version when the request is conditional (s3-object.ts).
*/
import type {Middleware} from 'koa';
import type {Logger} from 'pino';
import {isMutableVersion} from '../../agent/catalog.js';
import type {S3Store} from '../../store/s3/client.js';
import {defendFileKind} from '../defend/defend-kind.js';
import {createS3Index, type S3Index} from '../s3-index.js';
import type {ListingEntry} from '../views/listing.js';
import type {BlockCacheStats} from './block-cache.js';
import {treeHandler} from './handler.js';
import {sortListing} from './listing.js';
import {createS3Blocks} from './s3-blocks.js';
import {createArtifactHeads, metaOf} from './s3-meta.js';
import {fetchedFile, headedFile} from './s3-object.js';
import {createS3Sidecars} from './s3-sidecars.js';
import type {MaybePromise, TreeFile, TreeFileLookup, TreeSource} from './source.js';

/** How the S3 tree answers. */
export type S3TreeOptions = {
	/** 302 artifact downloads to presigned URLs instead of streaming them. */
	readonly redirect: boolean;
	/** Lifetime of a presigned URL. */
	readonly presignSeconds?: number | undefined;
	/** Memory for shared blocks of artifacts; 0 streams every download from the store. */
	readonly blockCacheBytes?: number | undefined;
};

/** The store's source, and what its shared blocks hold and did (when there are any). */
export type S3TreeSource = TreeSource & {readonly blockStats: (() => BlockCacheStats) | undefined};

/** The source for the mirror in `store`, as `index` (refreshed before each request) sees it. */
export function createS3TreeSource(store: S3Store, index: S3Index, options: S3TreeOptions): S3TreeSource {
	const heads = createArtifactHeads(store, index.generation);
	const sidecars = createS3Sidecars(store, index.generation);
	const blockCacheBytes = options.blockCacheBytes ?? 64 * 1024 * 1024;
	const blocks = blockCacheBytes > 0 ? createS3Blocks(store, heads, blockCacheBytes) : undefined;

	function openObject(lookup: TreeFileLookup): MaybePromise<TreeFile | 'missing'> {
		const {kind} = lookup;
		if (kind?.kind === 'sidecar') {
			return sidecars.open(lookup.request.relative, isMutableVersion(kind.ref.version));
		}

		// A Defend manifest zip is small and polled by every endpoint: kept like a sidecar
		// until the mirror's manifest changes, which a sync writes after replacing it.
		return defendFileKind(lookup.request.relative) === 'manifest'
			? sidecars.open(lookup.request.relative, false)
			: openStored(lookup);
	}

	async function openStored({
		request,
		kind,
		wholeBody,
		again,
	}: TreeFileLookup): Promise<TreeFile | 'missing'> {
		const relative = request.relative;

		if (blocks && kind?.kind === 'artifact') {
			const meta = await heads.get(relative, again || isMutableVersion(kind.ref.version));
			return meta ? blocks.file(relative, meta) : 'missing';
		}

		if (blocks && defendFileKind(relative) === 'artifact') {
			// Immutable once named, and fetched by every endpoint after a new manifest: shared like artifacts.
			const meta = await heads.get(relative, again);
			return meta ? blocks.file(relative, meta) : 'missing';
		}

		if (wholeBody) {
			const object = await store.getStream(relative);
			return object ? fetchedFile(object) : 'missing';
		}

		const info = await store.head(relative);
		return info ? headedFile(store, relative, metaOf(info)) : 'missing';
	}

	return {
		beforeRequest: index.refreshIfDue,
		async list(request) {
			const folder = `${request.relative}/`;
			const {files, folders} = await store.listFolder(folder);
			const entries: ListingEntry[] = [
				...folders.map((name) => ({
					name: name.slice(folder.length).replace(/\/$/, ''),
					type: 'directory' as const,
				})),
				...files.map((file) => ({
					name: file.key.slice(folder.length),
					type: 'file' as const,
					size: file.size,
					modified: file.lastModified.toISOString(),
				})),
			].filter((entry) => entry.name !== '' && !entry.name.startsWith('.'));
			return entries.length > 0 ? sortListing(entries) : undefined;
		},
		open(lookup) {
			const opened = openObject(lookup);
			if (!(opened instanceof Promise) && opened !== 'missing') {
				return opened;
			}

			return (async () => {
				const file = await opened;
				if (file !== 'missing') {
					return file;
				}

				const {files, folders} = await store.listFolder(`${lookup.request.relative}/`);
				return files.length > 0 || folders.length > 0 ? 'folder' : 'missing';
			})();
		},
		redirectUrl: options.redirect
			? (relative) => store.presignGet(relative, options.presignSeconds ?? 300)
			: undefined,
		blockStats: blocks?.cache.stats,
	};
}

/** The pieces of the app that read the object store. */
export type S3Source = {
	readonly index: S3Index;
	readonly tree: Middleware;
	/** What the tree reads, for the registry API's blobs. */
	readonly source: TreeSource;
	/** What the shared artifact blocks hold and did, when there are any. */
	readonly blockStats: (() => BlockCacheStats) | undefined;
};

/** How to serve from the store. */
export type S3SourceOptions = {
	/** 302 artifact downloads to presigned URLs. */
	readonly redirect: boolean;
	/** How often each server looks for a new manifest. */
	readonly refreshMs: number;
	/** Memory for shared artifact blocks (default 64 MiB; 0: stream each download). */
	readonly blockCacheBytes?: number | undefined;
	readonly logger?: Logger | undefined;
};

/** The index and tree of the bucket behind `store` (opened, and its access checked, by store/open.ts). */
export function createS3Source(store: S3Store, options: S3SourceOptions): S3Source {
	const index = createS3Index(store, options.refreshMs, options.logger);
	const source = createS3TreeSource(store, index, {
		redirect: options.redirect,
		blockCacheBytes: options.blockCacheBytes,
	});
	return {index, tree: treeHandler(source), source, blockStats: source.blockStats};
}
