/**
The config of `sync`: what it runs with, read from its options. The same reading
gives import and verify their mirror and trusted keys, serve its scheduled sync
and prune --unselected its selection.
*/
import {readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {UsageError} from '../errors.js';
import {userAgent} from '../meta.js';
import {defendDefs} from './defs/defend.js';
import {imageDefs} from './defs/images.js';
import {packageDefs} from './defs/packages.js';
import {selectionDefs} from './defs/selection.js';
import {syncDefs} from './defs/sync.js';
import {upstreamDefs} from './defs/upstream.js';
import {parseUrl} from './parse.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {proxyEnv, readStore} from './store.js';
import type {PackageSyncOptions, SyncOptions} from './types.js';

/** What `sync` runs with, and how it reports. */
export type SyncConfig = {
	readonly options: SyncOptions;
	/** undefined: decide by whether stdout is a TTY. */
	readonly json: boolean | undefined;
};

/** Sync's options from `reader`; without `requireVersions`, no versions is an empty list. Throws UsageError. */
export function readSyncOptions(reader: Reader, {requireVersions = true} = {}): SyncOptions {
	const {read, given} = reader;
	const {location} = readStore(reader);
	const packages = readPackageOptions(reader);
	const defendVersions = read(defendDefs.defendArtifacts);
	const defend = defendVersions
		? {versions: defendVersions, upstream: read(defendDefs.defendUpstream)}
		: undefined;
	const imageRequests = read(imageDefs.images);
	const images = imageRequests
		? {
				requests: imageRequests,
				registry: read(imageDefs.imageRegistry),
				platforms: read(imageDefs.imagePlatforms),
			}
		: undefined;
	// Binaries are synced when asked for, or when nothing else is: --versions then selects them.
	const products = read(selectionDefs.products) ?? (packages || defend || images ? [] : ['elastic-agent']);
	if (requireVersions && !given(selectionDefs.versions)) {
		if (!packages && !defend && !images) {
			throw new UsageError(
				'nothing selected: set --versions (or MIRROR_VERSIONS), e.g. --versions latest, or --packages, --defend-artifacts or --images',
			);
		}

		const untagged = images?.requests.find((request) => request.tag === undefined);
		if (untagged) {
			throw new UsageError(
				`no stack versions for the untagged image ${untagged.repository}: set --versions (or MIRROR_VERSIONS), or give a tag (${untagged.repository}:9.1.3)`,
			);
		}

		if (products.length > 0) {
			throw new UsageError('no versions selected for --products: set --versions (or MIRROR_VERSIONS)');
		}

		if (packages && !packages.kibanaVersions) {
			throw new UsageError(
				'no Kibana versions for --packages: set --kibana-versions (or MIRROR_KIBANA_VERSIONS), or --versions',
			);
		}
	}

	const trustedKeyPaths = read(upstreamDefs.trustedKey);
	if (trustedKeyPaths.length === 0) {
		throw new UsageError('no trusted keys: give at least one --trusted-key');
	}

	const caFile = read(upstreamDefs.caFile);
	const proxy = proxyEnv(reader.sources.env);
	for (const [name, value] of Object.entries(proxy)) {
		if (name !== 'noProxy' && value) {
			parseUrl(value.includes('://') ? value : `http://${value}`, {
				label: `${name.toUpperCase()}_PROXY`,
				baseDir: '',
			});
		}
	}

	const upstream = read(upstreamDefs.upstream);
	return {
		location,
		upstream,
		versionsApi: read(upstreamDefs.versionsApi),
		// Another mirror of ours answers /v1/versions: ask it first when it is the upstream.
		upstreamVersionsApi:
			given(upstreamDefs.upstream) && !given(upstreamDefs.versionsApi)
				? `${upstream}/v1/versions`
				: undefined,
		versions: read(selectionDefs.versions) ?? [],
		products,
		platforms: read(selectionDefs.platforms),
		fips: read(selectionDefs.fips),
		registry: read(packageDefs.registry),
		packages,
		defendUpstream: read(defendDefs.defendUpstream),
		defend,
		imageRegistry: read(imageDefs.imageRegistry),
		credentialFiles: credentialFiles(reader.sources.env, reader.sources.env.HOME ?? homedir()),
		images,
		trustedKeyPaths,
		concurrency: read(syncDefs.concurrency),
		dryRun: read(syncDefs.dryRun) ?? false,
		http: {
			timeoutMs: read(upstreamDefs.timeout) * 1000,
			retries: read(upstreamDefs.retries),
			retryDelayMs: read(upstreamDefs.retryDelay),
			minSpeed: {
				bytesPerSecond: read(upstreamDefs.minSpeed),
				windowMs: read(upstreamDefs.minSpeedWindow) * 1000,
			},
			maxFileSize: read(upstreamDefs.maxFileSize),
			ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
			proxy,
			userAgent,
		},
	};
}

/**
The registry credential files to read, in order, from the environment:
`REGISTRY_AUTH_FILE` (skopeo's and podman's), then `$DOCKER_CONFIG/config.json` or else
`~/.docker/config.json`.
*/
export function credentialFiles(env: Readonly<Record<string, string | undefined>>, home: string): string[] {
	const docker = env.DOCKER_CONFIG ? `${env.DOCKER_CONFIG}/config.json` : `${home}/.docker/config.json`;
	return [...(env.REGISTRY_AUTH_FILE ? [env.REGISTRY_AUTH_FILE] : []), docker];
}

/** The package selection, when `--packages` is given; its companions alone select nothing. */
function readPackageOptions({read}: Reader): PackageSyncOptions | undefined {
	const requests = read(packageDefs.packages);
	if (!requests) {
		return undefined;
	}

	return {
		requests,
		kibanaVersions: read(packageDefs.kibanaVersions),
		registry: read(packageDefs.registry),
		prerelease: read(packageDefs.packagePrerelease),
	};
}

/** Sync's config from `reader`. */
export function readSyncConfig(reader: Reader): SyncConfig {
	return {options: readSyncOptions(reader), json: reader.read(syncDefs.json)};
}

/** Load and validate everything `sync` needs. Throws UsageError (exit 2). */
export function loadSyncConfig(sources: ConfigSources, {requireVersions = true} = {}): SyncConfig {
	const reader = createReader(sources);
	return {options: readSyncOptions(reader, {requireVersions}), json: reader.read(syncDefs.json)};
}
