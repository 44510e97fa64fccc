/**
The mirror tree served from an object store, with every rule of the directory mode:
exact Content-Length, no Content-Encoding, single byte ranges, strong ETags without
`-`, Last-Modified, 304s and the same cache headers. Bodies are streamed from the
store with backpressure, never buffered whole; small immutable files (sidecars of
releases) are kept in memory until the manifest changes.

Headers and bytes of one response always come from one object version: a plain GET
of a file other than an artifact takes both from the store's one answer; otherwise
the headers come first (HEAD) and the bytes on condition that the object is still
the one described (`If-Match`), starting over once if it was replaced between.

Artifact bodies are written from blocks shared by every download (block-cache.ts):
a thousand agents fetching one artifact cost the store one read of it and the replica
one copy in memory, instead of a thousand open requests with their buffers. Blocks are
read on the object's ETag, so a response never mixes two versions; when the cache has
no room (every block pinned by a slow socket), the download streams from the store.

With `redirect`, artifact bodies are answered by a 302 to a short-lived presigned URL
of the store, so bytes flow from the store to the agent directly.

(Over 300 lines: the ways one response is answered, from memory, one GET, HEAD then a
conditional GET, or shared blocks, share the version checks and the start-over rule,
and are easier to check side by side than spread over modules.)
*/
import {pipeline} from 'node:stream/promises';
import {GetObjectCommand} from '@aws-sdk/client-s3';
import {getSignedUrl} from '@aws-sdk/s3-request-presigner';
import type {Context, Middleware} from 'koa';
import {classifyPath, isMutableVersion} from '../../agent/catalog.js';
import {MirrorError} from '../../errors.js';
import {cacheControlFor, contentTypeFor, isImmutableFile} from '../../store/headers.js';
import type {ObjectInfo, ObjectStream, S3Store} from '../../store/s3/client.js';
import {metadataKeys} from '../../store/s3/keys.js';
import {type BlockCache, type BlockCacheStats, createBlockCache, type PinnedBlock} from '../block-cache.js';
import {createBodyCache} from '../body-cache.js';
import {whenClosed, written} from '../exchange.js';
import {type FileMeta, prepare, type SendOptions} from '../file-response.js';
import type {TreeRequest} from '../request-path.js';
import type {S3Index} from '../s3-index.js';
import type {ListingEntry} from '../views/listing.js';
import {folderRedirect, sendListing, sortListing} from './tree.js';

/** How the S3 tree answers. */
export type S3TreeOptions = {
	/** 302 artifact downloads to presigned URLs instead of streaming them. */
	readonly redirect: boolean;
	/** Lifetime of a presigned URL. */
	readonly presignSeconds?: number | undefined;
	/** Memory for shared blocks of artifacts; 0 streams every download from the store. */
	readonly blockCacheBytes?: number | undefined;
};

const smallFileBytes = 64 * 1024;
const cacheBytes = 32 * 1024 * 1024;
/** Large enough that a read costs the store little per byte, small enough to share finely. */
const blockBytes = 1024 * 1024;
/** Artifacts whose headers are remembered until the manifest changes. */
const metaEntries = 10_000;

/** Headers from what the store says about an object. */
function metaOf(info: ObjectInfo): FileMeta {
	const sha512 = info.metadata[metadataKeys.sha512];
	const upstream = Date.parse(info.metadata[metadataKeys.modified] ?? '');
	const lastModified = Number.isNaN(upstream) ? info.lastModified : new Date(upstream);
	// Multipart ETags end in `-N`, which Elastic Defend's tooling strips: use the
	// verified sha512 when sync recorded it, else the store's ETag as plain hex.
	const tag =
		sha512 && /^[0-9a-f]{128}$/.test(sha512) ? sha512.slice(0, 32) : info.etag.replace(/[^0-9a-f]/gi, '');
	return {
		identity: info.etag,
		size: info.size,
		etag: `"${tag}"`,
		lastModified,
		lastModifiedText: lastModified.toUTCString(),
	};
}

/**
Pipe the store's `body` into the response; resolves when all of it went out, rejects
when the store fails or the client leaves. A response queued behind a pipelined one
never closes when its client leaves (exchange.ts): the store's stream is destroyed on
its request's close too, which ends the pipeline and aborts the store's request.
*/
async function pipeTo(
	ctx: Context,
	body: ObjectStream['body'],
	onChunk: (length: number) => void,
): Promise<void> {
	body.on('data', (chunk: Buffer) => onChunk(chunk.length));
	const stop = whenClosed(ctx, () => body.destroy());
	try {
		await pipeline(body, ctx.res);
	} finally {
		stop();
	}
}

/** Send `body` as the response body, past koa, counting bytes for the access log. */
function pipeBody(ctx: Context, body: ObjectStream['body']): void {
	let sent = 0;
	ctx.state.bytesSent = () => sent;
	ctx.respond = false;
	const res = ctx.res;
	res.statusCode = ctx.status;
	// A store that fails mid-body, or a client that leaves, ends the response cut
	// short: a truncated body never passes for a complete one.
	pipeTo(ctx, body, (length) => {
		sent += length;
	}).catch(() => {
		res.destroy();
	});
}

function isChanged(error: unknown): boolean {
	return error instanceof MirrorError && error.code === 'ERR_STORE_CHANGED';
}

function isConditional(ctx: Context): boolean {
	return Boolean(ctx.get('Range') || ctx.get('If-None-Match') || ctx.get('If-Modified-Since'));
}

/** The tree middleware for a mirror in `store`, and what its shared blocks hold. */
export function s3TreeRoutes(
	store: S3Store,
	index: S3Index,
	options: S3TreeOptions,
): {tree: Middleware; blockStats: (() => BlockCacheStats) | undefined} {
	const cache = createBodyCache<{generation: number; meta: FileMeta; body: Buffer}>(cacheBytes);
	const blockCacheBytes = options.blockCacheBytes ?? 64 * 1024 * 1024;
	const blocks: BlockCache | undefined =
		blockCacheBytes > 0
			? createBlockCache({
					budgetBytes: blockCacheBytes,
					blockBytes,
					fetch: (relative, identity, start, end) => store.getRange(relative, start, end, identity),
				})
			: undefined;
	const metas = new Map<string, {generation: number; meta: Promise<FileMeta | undefined>}>();
	const sidecarLoads = new Map<string, ReturnType<S3Store['getBytes']>>();

	/** Bytes `range` of the object version `meta` describes; 'changed' when it is gone or replaced. */
	async function openRange(
		relative: string,
		meta: FileMeta,
		range: {start: number; end: number},
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

	/**
	What the store says of an artifact now, or as it said since the manifest last changed.
	One HEAD answers every request that arrives while it is under way: a wave of agents
	after a new manifest costs the store one HEAD per artifact, not one per agent.
	*/
	function artifactMeta(relative: string, fresh: boolean): Promise<FileMeta | undefined> {
		const generation = index.generation();
		const known = metas.get(relative);
		if (!fresh && known?.generation === generation) {
			return known.meta;
		}

		const meta = store.head(relative).then((info) => (info ? metaOf(info) : undefined));
		if (metas.size >= metaEntries) {
			metas.clear();
		}

		const entry = {generation, meta};
		metas.set(relative, entry);
		meta.then(
			(found) => {
				if (!found && metas.get(relative) === entry) {
					metas.delete(relative);
				}
			},
			() => {
				if (metas.get(relative) === entry) {
					metas.delete(relative);
				}
			},
		);
		return meta;
	}

	/**
	Write bytes `range` of the object `meta` describes, block by block from `first` on.
	One block at a time is pinned: the next is acquired once the socket has taken the
	last slice of this one (and was prefetched meanwhile).
	*/
	async function pumpBlocks(
		ctx: Context,
		relative: string,
		meta: FileMeta,
		range: {start: number; end: number},
		blockCache: BlockCache,
		first: PinnedBlock,
	): Promise<void> {
		const res = ctx.res;
		let sent = 0;
		ctx.state.bytesSent = () => sent;
		ctx.respond = false;
		res.statusCode = ctx.status;
		let block: PinnedBlock | undefined = first;
		whenClosed(ctx, () => block?.release());
		try {
			let position = range.start;
			while (position <= range.end) {
				const index = Math.floor(position / blockBytes);
				if (!block) {
					block = await blockCache.acquire(relative, meta.identity, meta.size, index);
				}

				if (!block) {
					// No room: the rest comes straight from the store, on the same version.
					const object = await openRange(relative, meta, {start: position, end: range.end});
					if (object === 'changed') {
						throw new MirrorError('ERR_STORE_CHANGED', `${relative} changed in the store`);
					}

					await pipeTo(ctx, object.body, (length) => {
						sent += length;
					});
					return;
				}

				const blockStart = index * blockBytes;
				if ((index + 1) * blockBytes <= range.end) {
					blockCache.prefetch(relative, meta.identity, meta.size, index + 1);
				}

				const slice = block.body.subarray(
					position - blockStart,
					Math.min(block.body.length, range.end + 1 - blockStart),
				);
				await written(ctx, slice);
				sent += slice.length;
				position += slice.length;
				block.release();
				block = undefined;
			}

			res.end();
		} catch (error) {
			// The client left, or the store failed or changed mid-body: cut the connection so
			// that a short body can never pass for a complete one. A changed object is looked
			// up afresh by the next request, even before the manifest says so.
			if (isChanged(error)) {
				metas.delete(relative);
			}

			block?.release();
			res.destroy();
		}
	}

	/** An artifact from shared blocks, or streamed when its first block has no room. */
	async function sendArtifact(
		ctx: Context,
		relative: string,
		headers: SendOptions,
		blockCache: BlockCache,
		fresh: boolean,
	): Promise<'sent' | 'missing' | 'changed'> {
		const meta = await artifactMeta(relative, fresh);
		if (!meta) {
			return 'missing';
		}

		const range = prepare(ctx, meta, headers);
		if (!range) {
			return 'sent';
		}

		let first: PinnedBlock | undefined;
		try {
			first = await blockCache.acquire(
				relative,
				meta.identity,
				meta.size,
				Math.floor(range.start / blockBytes),
			);
		} catch (error) {
			if (isChanged(error)) {
				return 'changed';
			}

			throw error;
		}

		if (first) {
			void pumpBlocks(ctx, relative, meta, range, blockCache, first);
			return 'sent';
		}

		return (await stream(ctx, relative, meta, range)) ? 'sent' : 'changed';
	}

	async function listing(ctx: Context, request: TreeRequest): Promise<void> {
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
		sendListing(ctx, request, entries.length > 0 ? sortListing(entries) : undefined);
	}

	/** Stream bytes `start`..`end` of the object `meta` describes; false when it changed meanwhile. */
	async function stream(
		ctx: Context,
		relative: string,
		meta: FileMeta,
		range: {start: number; end: number},
	): Promise<boolean> {
		const object = await openRange(relative, meta, range);
		if (object === 'changed') {
			return false;
		}

		pipeBody(ctx, object.body);
		return true;
	}

	async function sendObject(ctx: Context, request: TreeRequest, attempt = 0): Promise<'sent' | 'missing'> {
		const relative = request.relative;
		const kind = classifyPath(relative);
		const headers = {
			contentType: contentTypeFor(request.segments.at(-1) ?? ''),
			cacheControl: cacheControlFor(kind),
			immutable: isImmutableFile(kind),
		};
		const cacheable = kind?.kind === 'sidecar' && !isMutableVersion(kind.ref.version);
		const cached = cacheable ? cache.get(relative) : undefined;
		if (cached && cached.generation === index.generation()) {
			const range = prepare(ctx, cached.meta, headers);
			if (range) {
				ctx.body = cached.body.subarray(range.start, range.end + 1);
			}

			return 'sent';
		}

		if (kind?.kind === 'sidecar') {
			// Sidecars are small: one GET, and keep those of releases. Requests for one that
			// is being read wait for that read: a cold replica asks the store once per file.
			const generation = index.generation();
			const loadKey = `${generation}\u0000${relative}`;
			let loading = cacheable ? sidecarLoads.get(loadKey) : undefined;
			if (!loading) {
				loading = store.getBytes(relative);
				if (cacheable) {
					const pending = loading;
					sidecarLoads.set(loadKey, pending);
					void pending.then(
						() => sidecarLoads.delete(loadKey),
						() => sidecarLoads.delete(loadKey),
					);
				}
			}

			const found = await loading;
			if (!found || found === 'not-modified') {
				return 'missing';
			}

			const meta = metaOf(found.info);
			if (cacheable && found.body.length <= smallFileBytes) {
				cache.set(relative, {generation, meta, body: found.body});
			}

			const range = prepare(ctx, meta, headers);
			if (range) {
				ctx.body = found.body.subarray(range.start, range.end + 1);
			}

			return 'sent';
		}

		if (blocks && kind?.kind === 'artifact') {
			const fresh = attempt > 0 || isMutableVersion(kind.ref.version);
			const result = await sendArtifact(ctx, relative, headers, blocks, fresh);
			if (result !== 'changed') {
				return result;
			}
		} else if (ctx.method === 'GET' && !isConditional(ctx)) {
			// The common download of other large files: headers and bytes from one GET.
			const object = await store.getStream(relative);
			if (!object) {
				return 'missing';
			}

			const meta = metaOf(object);
			const range = prepare(ctx, meta, headers);
			if (!range || object.size === 0) {
				object.body.destroy();
				return 'sent';
			}

			pipeBody(ctx, object.body);
			return 'sent';
		} else {
			const info = await store.head(relative);
			if (!info) {
				return 'missing';
			}

			const meta = metaOf(info);
			const range = prepare(ctx, meta, headers);
			if (!range || (await stream(ctx, relative, meta, range))) {
				return 'sent';
			}
		}

		if (attempt > 0) {
			throw new MirrorError('ERR_STORE_CHANGED', `${relative} keeps changing in the store`);
		}

		// Replaced between HEAD and GET (a SNAPSHOT re-published): start over once.
		for (const name of ctx.res.getHeaderNames()) {
			ctx.res.removeHeader(name);
		}

		return sendObject(ctx, request, attempt + 1);
	}

	const tree: Middleware = async (ctx) => {
		const request = ctx.state.tree as TreeRequest;
		if (request.segments.length === 0) {
			ctx.throw(404, 'not found');
		}

		await index.refreshIfDue();
		if (request.trailingSlash) {
			await listing(ctx, request);
			return;
		}

		const kind = classifyPath(request.relative);
		ctx.state.route = kind?.kind ?? 'file';
		if (options.redirect && kind?.kind === 'artifact') {
			const url = await getSignedUrl(
				store.client,
				new GetObjectCommand({Bucket: store.location.bucket, Key: store.key(request.relative)}),
				{expiresIn: options.presignSeconds ?? 300},
			);
			ctx.state.download = kind.ref;
			ctx.set('Cache-Control', 'no-store');
			ctx.redirect(url);
			return;
		}

		if ((await sendObject(ctx, request)) === 'missing') {
			const {files, folders} = await store.listFolder(`${request.relative}/`);
			if (files.length > 0 || folders.length > 0) {
				ctx.state.route = 'listing';
				const query = ctx.querystring ? `?${ctx.querystring}` : '';
				ctx.status = 301;
				ctx.redirect(folderRedirect(request.segments, query));
				return;
			}

			ctx.throw(404, 'not found');
		}

		if (kind?.kind === 'artifact') {
			ctx.state.download = kind.ref;
		}
	};

	return {tree, blockStats: blocks?.stats};
}
