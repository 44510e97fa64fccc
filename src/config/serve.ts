/**
The config of `serve`: what it runs with, loaded and validated from its options,
including the in-process sync schedule (with sync's own options).
*/

import type {SyncOptions} from '../agent/sync.js';
import {UsageError} from '../errors.js';
import type {StoreLocation} from '../store/location.js';
import {checkCronExpression} from './cron.js';
import {logLevels, serveOptionDefs} from './defs/serve.js';
import {
	parseAddress,
	parseBoolean,
	parseChoice,
	parseInteger,
	parseNumber,
	parsePath,
	parseUrl,
	readablePath,
} from './parse.js';
import {type ConfigSources, createReader} from './sources.js';
import {readStore} from './store.js';
import {loadSyncConfig} from './sync.js';

/** What `serve` runs with. */
export type ServeConfig = {
	/** The mirror to serve: a directory or an object store. */
	readonly location: StoreLocation;
	readonly host: string;
	readonly port: number;
	/** Without a trailing slash; undefined: derive from each request. */
	readonly publicUrl: string | undefined;
	readonly tls: {readonly certPath: string; readonly keyPath: string} | undefined;
	readonly trustProxy: boolean;
	readonly drainTimeoutMs: number;
	readonly accessLog: boolean;
	/** Where to leave the local URL once listening, for `healthcheck`. */
	readonly urlFile?: string | undefined;
	/** Plain JSON lines, or ECS JSON (default json). */
	readonly logFormat?: 'json' | 'ecs' | undefined;
	/** Lowest level logged (default info). */
	readonly logLevel?: (typeof logLevels)[number] | undefined;
	/** Serve /metrics here instead of on the main port. */
	readonly metricsAddress?: {readonly host: string; readonly port: number} | undefined;
	/** With a store: answer artifact bodies with a 302 to a presigned URL. */
	readonly s3Redirect?: boolean | undefined;
	/** With a store: how often to look for a new manifest (ms). */
	readonly indexRefreshMs?: number | undefined;
	/** With a store: memory for shared artifact blocks (0: none). */
	readonly s3BlockCacheBytes?: number | undefined;
	/** The in-process sync: when, and with what (sync's own options from the same sources). */
	readonly syncSchedule: {readonly expression: string; readonly options: SyncOptions} | undefined;
};

/** Load and validate everything `serve` needs. Throws UsageError (exit 2). */
export function loadServeConfig(sources: ConfigSources): ServeConfig {
	const reader = createReader(sources, serveOptionDefs);
	const {orDefault} = reader;
	const {location} = readStore(sources, reader);

	const certPath = orDefault(
		'tls-cert',
		(raw, origin) => readablePath(raw, origin, 'TLS certificate'),
		undefined,
	);
	const keyPath = orDefault('tls-key', (raw, origin) => readablePath(raw, origin, 'TLS key'), undefined);
	if (Boolean(certPath) !== Boolean(keyPath)) {
		throw new UsageError('--tls-cert and --tls-key go together: give both to serve HTTPS, or neither');
	}

	const publicUrl = orDefault(
		'public-url',
		(raw, origin) => {
			const url = parseUrl(raw, origin);
			if (/[?#]/.test(url)) {
				throw new UsageError(
					`invalid ${origin.label} "${url}": no query or fragment, just scheme, host and path`,
				);
			}

			return url;
		},
		undefined,
	);
	const host = orDefault(
		'host',
		(raw, origin) => {
			const text = String(raw).trim();
			if (!/^[\w.:-]+$/.test(text)) {
				throw new UsageError(`invalid ${origin.label} "${text}": expected an IP address or host name`);
			}

			return text;
		},
		'0.0.0.0',
	);
	const s3Redirect = orDefault('s3-redirect', parseBoolean, false);
	if (s3Redirect && location.kind !== 's3') {
		throw new UsageError('--s3-redirect needs an s3:// --store to redirect to');
	}

	const s3BlockCacheMiB = orDefault(
		's3-block-cache',
		(raw, origin) => parseInteger(raw, origin, 0, 65_536),
		64,
	);
	return {
		location,
		s3Redirect,
		s3BlockCacheBytes: s3BlockCacheMiB * 1024 * 1024,
		host,
		port: orDefault('port', (raw, origin) => parseInteger(raw, origin, 0, 65_535), 8080),
		publicUrl,
		tls: certPath && keyPath ? {certPath, keyPath} : undefined,
		trustProxy: orDefault('trust-proxy', parseBoolean, false),
		drainTimeoutMs:
			orDefault('drain-timeout', (raw, origin) => parseNumber(raw, origin, 0, 86_400), 30) * 1000,
		accessLog: orDefault('access-log', parseBoolean, true),
		urlFile: orDefault('url-file', parsePath, undefined),
		logFormat: orDefault(
			'log-format',
			(raw, origin) => parseChoice(raw, origin, ['json', 'ecs'] as const),
			'json',
		),
		logLevel: orDefault('log-level', (raw, origin) => parseChoice(raw, origin, logLevels), 'info'),
		metricsAddress: orDefault('metrics-address', parseAddress, undefined),
		syncSchedule: orDefault(
			'sync-schedule',
			(raw, origin) => ({
				expression: checkCronExpression(String(raw).trim(), origin.label),
				// Sync's own options come from the environment and the config file; the
				// mirror is always the one being served.
				options: {
					...loadSyncConfig({
						...sources,
						flags: {config: sources.flags.config, ...(location.kind === 'dir' ? {dir: location.dir} : {})},
					}).options,
					location,
				},
			}),
			undefined,
		),
	};
}
