/**
The pull side of the OCI Distribution API under `/v2/`, from the manifest's image
section: the base check, manifests and blobs by tag or digest, tags and the catalog.
A digest is answered under a name only when one of that name's tags reaches it. The
mirror is read-only: every other method is the spec's 405 `UNSUPPORTED`. Runs before
the app's method and path checks, so every answer under `/v2/` is the spec's.
*/
import type {Context, Middleware} from 'koa';
import type {Logger} from 'pino';
import {isClientAbort} from '../middleware/errors.js';
import type {MirrorIndex, Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import type {TreeSource} from '../tree/source.js';
import {countPull, type OciMetrics} from './metrics.js';
import {clashText, type ServedNames, servedNames} from './names.js';
import {acceptsType, parseOciPath} from './request.js';
import {apiVersion, ociError, ociJson, paginate, sortedNames} from './respond.js';
import {immutableCache, redirectStored, sendStored} from './send-stored.js';

/** What the routes read. */
export type OciDeps = {
	readonly index: MirrorIndex;
	readonly source: TreeSource;
	readonly metrics: OciMetrics;
	/** `serve --container-repository`: also serve every repository as `NAME/<last component>`. */
	readonly containerRepository?: string | undefined;
	readonly logger?: Logger | undefined;
};

/** Whether `path` is under the registry API. */
function isOciPath(path: string): boolean {
	return path === '/v2' || path.startsWith('/v2/');
}

/** The middleware: answers every `/v2/` request, passes the rest on. */
export function ociRoutes(deps: OciDeps): Middleware {
	const warned = new Set<string>();
	const namesOf = (snapshot: Snapshot): ServedNames =>
		perSnapshot(snapshot, 'oci-names', () => {
			const served = servedNames(snapshot.manifest.images, deps.containerRepository);
			for (const clash of served.clashes) {
				const line = clashText(clash, deps.containerRepository ?? '');
				if (!warned.has(line)) {
					warned.add(line);
					deps.logger?.warn({msg: `${line}; the tag is served from neither`});
				}
			}

			return served;
		});

	return async (ctx, next) => {
		if (!isOciPath(ctx.path)) {
			return next();
		}

		ctx.state.route = 'oci';
		apiVersion(ctx);
		if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
			ctx.set('Allow', 'GET, HEAD');
			ociError(ctx, 405, 'UNSUPPORTED', 'The operation is unsupported.');
			return;
		}

		try {
			await answer(ctx, deps, namesOf);
		} catch (error) {
			if (ctx.headerSent || isClientAbort(error)) {
				throw error;
			}

			deps.logger?.error({msg: 'request failed', url: ctx.originalUrl, err: error});
			ociError(ctx, 500, 'UNKNOWN', 'internal error');
		}
	};
}

async function answer(
	ctx: Context,
	deps: OciDeps,
	namesOf: (snapshot: Snapshot) => ServedNames,
): Promise<void> {
	const request = parseOciPath(ctx.path);
	switch (request.kind) {
		case 'base': {
			ociJson(ctx, {});
			return;
		}

		case 'none': {
			ociError(ctx, 404, 'NOT_FOUND', 'not a route of the registry API');
			return;
		}

		case 'invalid': {
			ociError(ctx, 400, request.code, request.message);
			return;
		}

		default:
	}

	await deps.source.beforeRequest?.();
	const snapshot = await deps.index.snapshot();
	const {names} = namesOf(snapshot);
	if (request.kind === 'catalog') {
		const page = paginate(ctx, sortedNames(names.keys()), '/v2/_catalog');
		if (page) ociJson(ctx, {repositories: page});
		else ociError(ctx, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested');
		return;
	}

	const served = names.get(request.name);
	if (!served) {
		ociError(ctx, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
		return;
	}

	switch (request.kind) {
		case 'unknown': {
			ociError(
				ctx,
				404,
				request.code,
				request.code === 'BLOB_UNKNOWN' ? 'blob unknown to registry' : 'manifest unknown',
			);
			return;
		}

		case 'tags': {
			const page = paginate(ctx, sortedNames(served.tags.keys()), `/v2/${request.name}/tags/list`);
			if (page) ociJson(ctx, {name: request.name, tags: page});
			else ociError(ctx, 400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested');
			return;
		}

		case 'blob': {
			const repository = served.digests().get(request.digest);
			if (repository === undefined) {
				ociError(ctx, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
				return;
			}

			countPull(ctx, deps.metrics.blobPulls, repository);
			// A presigned URL is good for GET only: a HEAD that followed it would get 403, so HEAD is answered here.
			if (ctx.method === 'GET' && (await redirectStored(ctx, deps.source, request.digest))) {
				return;
			}

			const answer = {
				digest: request.digest,
				contentType: 'application/octet-stream',
				cacheControl: immutableCache,
				immutable: true,
			};
			if ((await sendStored(ctx, deps.source, answer)) === 'missing') {
				ociError(ctx, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
			}

			return;
		}

		default:
	}

	const tag = request.byDigest ? undefined : served.tags.get(request.reference);
	const digest = request.byDigest ? request.reference : tag?.entry.digest;
	const repository = digest === undefined ? undefined : (tag?.repository ?? served.digests().get(digest));
	const mediaType = digest === undefined ? undefined : snapshot.manifest.images.blobs[digest]?.mediaType;
	if (digest === undefined || repository === undefined || mediaType === undefined) {
		ociError(ctx, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
		return;
	}

	if (!acceptsType(ctx.get('Accept') || undefined, mediaType)) {
		ociError(
			ctx,
			404,
			'MANIFEST_UNKNOWN',
			`the manifest is ${mediaType}, which the request's Accept header does not list`,
		);
		return;
	}

	countPull(ctx, deps.metrics.manifestPulls, repository);
	const answer = {
		digest,
		contentType: mediaType,
		cacheControl: request.byDigest ? immutableCache : 'no-cache',
		immutable: request.byDigest,
	};
	if ((await sendStored(ctx, deps.source, answer)) === 'missing') {
		ociError(ctx, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
	}
}
