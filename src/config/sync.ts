/**
The config of `sync`: what it runs with, loaded and validated from its options.
Import, verify, prune and serve's schedule reuse it.
*/
import {readFileSync} from 'node:fs';
import {defaultPlatformIds, getPlatform, getProduct, platforms, products} from '../agent/catalog.js';
import type {SyncOptions} from '../agent/sync.js';
import {UsageError} from '../errors.js';
import {bundledKeyPath, userAgent} from '../meta.js';
import {parseVersionSpecs} from '../versions.js';
import {syncOptionDefs} from './defs/sync.js';
import {
	parseBoolean,
	parseInteger,
	parseNames,
	parseNumber,
	parseSize,
	parseUrl,
	readablePath,
	splitList,
} from './parse.js';
import {type ConfigSources, createReader} from './sources.js';
import {proxyEnv, readStore} from './store.js';

/** What `sync` runs with, and how it reports. */
export type SyncConfig = {
	readonly options: SyncOptions;
	/** undefined: decide by whether stdout is a TTY. */
	readonly json: boolean | undefined;
};

/** Load and validate everything `sync` needs. Throws UsageError (exit 2). */
export function loadSyncConfig(sources: ConfigSources, {requireVersions = true} = {}): SyncConfig {
	const reader = createReader(sources, syncOptionDefs);
	const {get, orDefault} = reader;
	const {location} = readStore(sources, reader);

	const versions = get('versions');
	if (!versions && requireVersions) {
		throw new UsageError('no versions selected: set --versions (or MIRROR_VERSIONS), e.g. --versions latest');
	}

	const productNames = products.map((product) => product.name);
	const platformIds = platforms.map((platform) => platform.id);
	const trustedKeys = orDefault(
		'trusted-key',
		(raw, origin) => splitList(raw).map((file) => readablePath(file, origin, 'trusted key')),
		[bundledKeyPath],
	);
	if (trustedKeys.length === 0) {
		throw new UsageError('no trusted keys: give at least one --trusted-key');
	}

	const caFile = orDefault('ca-file', (raw, origin) => readablePath(raw, origin, 'CA file'), undefined);
	const proxy = proxyEnv(sources.env);
	for (const [name, value] of Object.entries(proxy)) {
		if (name !== 'noProxy' && value) {
			parseUrl(value.includes('://') ? value : `http://${value}`, {
				label: `${name.toUpperCase()}_PROXY`,
				baseDir: '',
			});
		}
	}

	const jsonFlag = sources.flags.json;
	const upstream = orDefault('upstream', parseUrl, 'https://artifacts.elastic.co');
	return {
		json: jsonFlag === undefined ? undefined : Boolean(jsonFlag),
		options: {
			location,
			upstream,
			versionsApi: orDefault('versions-api', parseUrl, 'https://artifacts-api.elastic.co/v1/versions'),
			// Another mirror of ours answers /v1/versions: ask it first when it is the upstream.
			upstreamVersionsApi: get('upstream') && !get('versions-api') ? `${upstream}/v1/versions` : undefined,
			versions: versions ? parseVersionSpecs(splitList(versions.raw), versions.origin.label) : [],
			products: orDefault(
				'products',
				(raw, origin) =>
					parseNames(raw, origin, productNames, (name) => getProduct(name) !== undefined, 'product'),
				['elastic-agent'],
			),
			platforms: orDefault(
				'platforms',
				(raw, origin) =>
					parseNames(raw, origin, platformIds, (name) => getPlatform(name) !== undefined, 'platform'),
				[...defaultPlatformIds],
			),
			fips: orDefault('fips', parseBoolean, false),
			trustedKeyPaths: trustedKeys,
			concurrency: orDefault('concurrency', (raw, origin) => parseInteger(raw, origin, 1, 64), 4),
			dryRun: Boolean(sources.flags['dry-run']),
			http: {
				timeoutMs: orDefault('timeout', (raw, origin) => parseNumber(raw, origin, 0.1, 3600), 30) * 1000,
				retries: orDefault('retries', (raw, origin) => parseInteger(raw, origin, 0, 20), 5),
				retryDelayMs: orDefault('retry-delay', (raw, origin) => parseInteger(raw, origin, 0, 600_000), 1000),
				minSpeed: {
					bytesPerSecond: orDefault(
						'min-speed',
						(raw, origin) => parseInteger(raw, origin, 0, 2 ** 40),
						10_240,
					),
					windowMs:
						orDefault('min-speed-window', (raw, origin) => parseNumber(raw, origin, 0.1, 86_400), 60) * 1000,
				},
				maxFileSize: orDefault(
					'max-file-size',
					(raw, origin) => parseSize(raw, origin, 1024 * 1024, '1M'),
					8 * 1024 ** 3,
				),
				ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
				proxy,
				userAgent,
			},
		},
	};
}
