/**
The Elastic Package Registry API at the root of the server, over the package
versions the mirror holds, so that Kibana can use the mirror as
`xpack.fleet.registryUrl` and another mirror as `--registry`: `/search`,
`/categories`, `/health`, `/package/<n>/<v>/` (the stored package info),
`/package/<n>/<v>/<file>` (a file read from inside the zip), and the registry's
answers for zips and signatures that are not there. The zips and signatures
themselves are tree files (exact length, ETag, ranges), answered by the tree.
Routes, statuses and messages follow the registry's main.go and handlers.
*/
import type {Context, Middleware, Next} from 'koa';
import type {Counter} from 'prom-client';
import {isPackageVersion, packagePaths} from '../../packages/catalog.js';
import {goJsonPretty} from '../../packages/go-compat.js';
import {countCategories} from '../../packages/registry-categories.js';
import {isQueryError, parseCategoriesQuery, parseSearchQuery} from '../../packages/registry-query.js';
import {applyFilter, SpecUnknownError} from '../../packages/registry-search.js';
import {whenClosed} from '../http/exchange.js';
import type {TreeRequest} from '../http/request-path.js';
import type {MirrorIndex, Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import {createBodyCache} from '../tree/body-cache.js';
import type {PackageFiles} from './package-files.js';
import {nameVersionKey, packageIndex} from './package-index.js';
import {cacheSeconds, corsHeader, registryError, registryJson, slashRedirect} from './respond.js';
import {sendPackageFile} from './static-file.js';

/** What the registry routes read. */
export type RegistryDeps = {
	readonly index: MirrorIndex;
	readonly files: PackageFiles;
	/** Complete zip downloads by package name. */
	readonly downloads: Counter<'package'>;
};

/** Memory for `/search` and `/categories` answers per view of the mirror. */
const answerBytes = 32 * 1024 * 1024;

const packageName = /^[a-z0-9_]+$/;
const zipFile = /^([a-z0-9_]+)-(.+)\.zip(\.sig)?$/;

/** The answer for `key` in `snapshot`, made once. */
function cachedAnswer(snapshot: Snapshot, key: string, make: () => Buffer): Buffer {
	const cache = perSnapshot(snapshot, 'registry-answers', () => createBodyCache<{body: Buffer}>(answerBytes));
	const hit = cache.get(key);
	if (hit) {
		return hit.body;
	}

	const body = make();
	cache.set(key, {body});
	return body;
}

async function search(ctx: Context, deps: RegistryDeps): Promise<void> {
	const filter = parseSearchQuery(ctx.querystring);
	if (isQueryError(filter)) {
		registryError(ctx, 400, filter.error);
		return;
	}

	const snapshot = await deps.index.snapshot();
	try {
		const body = cachedAnswer(snapshot, `search\n${JSON.stringify(filter)}`, () => {
			const selected = applyFilter(filter, packageIndex(snapshot).candidates);
			// An empty answer is the registry's literal `[]`, without the encoder's newline.
			return Buffer.from(selected.length === 0 ? '[]' : goJsonPretty(selected.map((each) => each.search)));
		});
		registryJson(ctx, body, cacheSeconds.search);
	} catch (error) {
		if (!(error instanceof SpecUnknownError)) throw error;
		registryError(ctx, 404, `fetching package failed: ${error.message}`);
	}
}

async function categories(ctx: Context, deps: RegistryDeps): Promise<void> {
	const query = parseCategoriesQuery(ctx.querystring);
	if (isQueryError(query)) {
		registryError(ctx, 400, query.error);
		return;
	}

	const snapshot = await deps.index.snapshot();
	try {
		const body = cachedAnswer(snapshot, `categories\n${JSON.stringify(query)}`, () => {
			const selected = applyFilter(query.filter, packageIndex(snapshot).candidates);
			return Buffer.from(goJsonPretty(countCategories(selected, query.includePolicyTemplates)));
		});
		registryJson(ctx, body, cacheSeconds.categories);
	} catch (error) {
		if (!(error instanceof SpecUnknownError)) throw error;
		registryError(ctx, 404, error.message);
	}
}

/** `/package/<n>/<v>/`: the package info exactly as upstream answered it. */
async function packageInfo(ctx: Context, deps: RegistryDeps, name: string, version: string): Promise<void> {
	if (!isPackageVersion(version)) {
		registryError(ctx, 400, 'invalid package version');
		return;
	}

	const snapshot = await deps.index.snapshot();
	const entry = packageIndex(snapshot).byNameVersion.get(nameVersionKey(name, version));
	const body = entry ? await deps.files.readSmall(packagePaths(name, version).info) : undefined;
	if (!body) {
		registryError(ctx, 404, 'package revision not found');
		return;
	}

	registryJson(ctx, body, cacheSeconds.index);
}

/**
`/epr/<n>/<n>-<v>.zip` and `.zip.sig`: the registry's 400 and 404 for what the
mirror does not hold; the tree sends what it does, and complete zips are counted.
*/
async function packageArtifact(ctx: Context, deps: RegistryDeps, next: Next, folder: string, file: string) {
	const match = zipFile.exec(file);
	if (!match?.[1] || !match[2]) {
		return next();
	}

	const [, name, version, signature] = match;
	corsHeader(ctx);
	if (!isPackageVersion(version)) {
		registryError(ctx, 400, 'invalid package version');
		return;
	}

	const snapshot = await deps.index.snapshot();
	if (folder !== name || !packageIndex(snapshot).byNameVersion.has(nameVersionKey(name, version))) {
		registryError(ctx, 404, signature ? 'signature file not found' : 'artifact not found');
		return;
	}

	if (!signature) {
		whenClosed(ctx, () => {
			if (ctx.method === 'GET' && ctx.status === 200 && ctx.res.writableFinished) {
				deps.downloads.inc({package: name});
			}
		});
	}

	await next();
	ctx.state.route = 'package';
}

function health(ctx: Context): void {
	ctx.status = 200;
	ctx.body = Buffer.alloc(0);
	// The registry's health handler writes nothing: no type either.
	ctx.remove('Content-Type');
}

const topLevel: Readonly<Record<string, (ctx: Context, deps: RegistryDeps) => void | Promise<void>>> = {
	search,
	categories,
	health,
};

/** The registry middleware: answers its routes, passes every other request on. */
export function registryRoutes(deps: RegistryDeps): Middleware {
	return async (ctx, next) => {
		const {segments, trailingSlash} = ctx.state.tree as TreeRequest;
		const [first, second, third, ...rest] = segments;
		if (segments.length === 1 && first !== undefined && Object.hasOwn(topLevel, first)) {
			ctx.state.route = 'registry';
			corsHeader(ctx);
			if (trailingSlash) {
				slashRedirect(ctx, `../${first}`);
				return;
			}

			await topLevel[first]?.(ctx, deps);
			return;
		}

		if (first === 'epr' && segments.length === 3 && second !== undefined && third !== undefined) {
			if (trailingSlash && zipFile.test(third)) {
				slashRedirect(ctx, `../${encodeURIComponent(third)}`);
				return;
			}

			return trailingSlash ? next() : packageArtifact(ctx, deps, next, second, third);
		}

		if (first !== 'package' || second === undefined || third === undefined) {
			return next();
		}

		ctx.state.route = 'package';
		corsHeader(ctx);
		if (rest.length === 0 && packageName.test(second)) {
			if (!trailingSlash) {
				slashRedirect(ctx, `${encodeURIComponent(third)}/`);
				return;
			}

			await packageInfo(ctx, deps, second, third);
			return;
		}

		if (rest.length === 0) {
			// Neither of the registry's package routes takes this name.
			registryError(ctx, 404, '404 page not found');
			return;
		}

		if (trailingSlash) {
			slashRedirect(ctx, `../${encodeURIComponent(rest.at(-1) ?? '')}`);
			return;
		}

		if (!isPackageVersion(third)) {
			registryError(ctx, 400, 'invalid package version');
			return;
		}

		const snapshot = await deps.index.snapshot();
		const entry = packageIndex(snapshot).byNameVersion.get(nameVersionKey(second, third));
		await sendPackageFile(ctx, deps.files, entry, rest.join('/'));
	};
}
