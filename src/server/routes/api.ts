/**
The mirror's own API (`/api/v1/...`) and the artifacts-api compatible one
(`/v1/versions`, `/v1/search/...`) over what this mirror holds, so that another
mirror or a tool written for artifacts-api.elastic.co can use it as upstream.
*/
import type {Router, RouterContext} from '@koa/router';
import semver from 'semver';
import {getPlatform, getProduct} from '../../agent/catalog.js';
import {shortCache} from '../../store/headers.js';
import type {ManifestEntry} from '../../store/manifest.js';
import {arrayPieces} from '../json-answer.js';
import type {Snapshot} from '../mirror-index.js';
import {artifactsByVersion, perSnapshot, sortedArtifacts} from '../per-snapshot.js';
import {publicFailure, publicRun} from '../views/runs.js';
import type {RouteDeps} from './context.js';

function artifactJson(entry: ManifestEntry, base: string) {
	const url = `${base}/${entry.path}`;
	return {
		product: entry.product,
		version: entry.version,
		platform: entry.platform,
		fips: entry.fips,
		file: entry.path.split('/').pop(),
		path: entry.path,
		url,
		sha512Url: `${url}.sha512`,
		ascUrl: `${url}.asc`,
		size: entry.size,
		sha512: entry.sha512,
		publishedAt: entry.publishedAt,
	};
}

/** artifacts-api's `manifests` object, from the last successful sync. */
function manifestsJson(snapshot: Snapshot, now: number) {
	const last = snapshot.status.lastSuccess?.finishedAt;
	return last
		? {
				'last-update-time': new Date(last).toUTCString(),
				'seconds-since-last-update': Math.max(0, Math.round((now - new Date(last).getTime()) / 1000)),
			}
		: {};
}

/** `8.15`, `8.15-SNAPSHOT`, ...: artifacts-api's aliases for the versions held. */
export function aliasesOf(versions: readonly string[]): string[] {
	const aliases = new Set<string>();
	for (const version of versions) {
		const parsed = semver.parse(version);
		if (parsed) {
			const snapshot = parsed.prerelease.includes('SNAPSHOT') ? '-SNAPSHOT' : '';
			aliases.add(`${parsed.major}.${parsed.minor}${snapshot}`);
		}
	}

	return [...aliases].sort(
		(a, b) => semver.compare(`${a.split('-')[0]}.0`, `${b.split('-')[0]}.0`) || a.localeCompare(b),
	);
}

function scheduleJson(deps: RouteDeps) {
	const info = deps.schedule?.();
	return info ? {...info, nextRun: info.nextRun?.toISOString() ?? null, lastRun: info.lastRun ?? null} : null;
}

/** Register the API routes on `router`. */
export function apiRoutes(router: Router, deps: RouteDeps): void {
	router.get('/api/v1/artifacts', async (ctx) => {
		ctx.state.route = 'api';
		const snapshot = await deps.index.snapshot();
		const base = deps.publicUrl(ctx);
		const filters = (['product', 'version', 'platform'] as const).flatMap((name) => {
			const value = ctx.query[name];
			return typeof value === 'string' && value !== '' ? [[name, value] as const] : [];
		});
		ctx.set('Cache-Control', shortCache);
		// Everything the text depends on: the snapshot (the cache's own), the base URL and the filters.
		const key = `artifacts\n${base}\n${JSON.stringify(filters)}`;
		const cached = deps.answers.send(ctx, snapshot, key, function* () {
			const all = sortedArtifacts(snapshot);
			const artifacts =
				filters.length > 0
					? all.filter((entry) => filters.every(([name, value]) => entry[name] === value))
					: all;
			const keys = Object.values(snapshot.manifest.keys).map((entry) => ({
				...entry,
				url: `${base}/${entry.path}`,
			}));
			yield `{"count":${artifacts.length},"artifacts":[`;
			yield* arrayPieces(artifacts, (entry) => artifactJson(entry, base));
			yield `],"keys":${JSON.stringify(keys)}}`;
		});
		if (cached) {
			deps.metrics.cachedAnswers.inc({route: 'api'});
		}
	});

	router.get('/api/v1/status', async (ctx) => {
		ctx.state.route = 'api';
		const snapshot = await deps.index.snapshot();
		ctx.set('Cache-Control', 'no-cache');
		ctx.body = {
			lastRun: snapshot.status.lastRun ? publicRun(snapshot.status.lastRun) : null,
			lastSuccess: snapshot.status.lastSuccess ? publicRun(snapshot.status.lastSuccess) : null,
			// The last run's failed files (the first 50; lastRun.counts.failed has the whole count).
			failures: (snapshot.status.lastRun?.failures ?? []).map(publicFailure),
			history: (snapshot.status.history ?? []).map(publicRun),
			artifacts: snapshot.byPath.size,
			bytes: snapshot.bytes,
			versions: snapshot.versions,
			schedule: scheduleJson(deps),
		};
	});

	router.get('/v1/versions', async (ctx) => {
		ctx.state.route = 'artifacts-api';
		const snapshot = await deps.index.snapshot();
		ctx.set('Cache-Control', shortCache);
		// The same text as the object would give, its unchanging part made once per snapshot.
		const held = perSnapshot(
			snapshot,
			'versions-json',
			() =>
				`{"versions":${JSON.stringify(snapshot.versions)},"aliases":${JSON.stringify(aliasesOf(snapshot.versions))}`,
		);
		ctx.type = 'application/json; charset=utf-8';
		ctx.body = `${held},"manifests":${JSON.stringify(manifestsJson(snapshot, Date.now()))}}`;
	});

	const search = async (ctx: RouterContext, version: string, productName: string | undefined) => {
		ctx.state.route = 'artifacts-api';
		const snapshot = await deps.index.snapshot();
		if (productName !== undefined && !getProduct(productName)) {
			ctx.throw(404, `unknown product ${productName}`);
		}

		const entries = (artifactsByVersion(snapshot).get(version) ?? []).filter(
			(entry) => productName === undefined || entry.product === productName,
		);
		if (entries.length === 0) {
			ctx.throw(404, `no artifacts for ${version}${productName ? ` of ${productName}` : ''} on this mirror`);
		}

		const base = deps.publicUrl(ctx);
		const packages: Record<string, unknown> = {};
		for (const entry of entries.sort((a, b) => a.path.localeCompare(b.path))) {
			const platform = getPlatform(entry.platform);
			const url = `${base}/${entry.path}`;
			packages[entry.path.split('/').pop() ?? entry.path] = {
				url,
				sha_url: `${url}.sha512`,
				asc_url: `${url}.asc`,
				type: platform?.type,
				architecture: platform?.architecture,
				os: platform ? [platform.os] : [],
			};
		}

		ctx.set('Cache-Control', shortCache);
		ctx.body = {packages, manifests: manifestsJson(snapshot, Date.now())};
	};

	router.get('/v1/search/:version', async (ctx) => search(ctx, ctx.params.version ?? '', undefined));
	router.get('/v1/search/:version/:product', async (ctx) =>
		search(ctx, ctx.params.version ?? '', ctx.params.product),
	);
}
