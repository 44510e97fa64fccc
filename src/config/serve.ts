/**
The config of `serve`: what it runs with, read from its options, including the
in-process sync schedule (with sync's own options).
*/
import {UsageError} from '../errors.js';
import type {StoreLocation} from '../store/location.js';
import {loggingDefs, type logLevels} from './defs/logging.js';
import {serveDefs} from './defs/serve.js';
import {tlsDefs} from './defs/tls.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {readStore} from './store.js';
import {readSyncOptions} from './sync.js';
import type {SyncOptions} from './types.js';

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
	/** Server processes sharing the port (`--workers`); 1 or absent: this process alone. */
	readonly workers?: number | undefined;
	/** Also serve every image as `NAME/<last component>` (ECK's `--container-repository`). */
	readonly containerRepository?: string | undefined;
	/** The in-process sync: when, and with what (sync's own options from the same sources). */
	readonly syncSchedule: {readonly expression: string; readonly options: SyncOptions} | undefined;
};

/** How strong a source is: a flag over the environment over the config file over the default. */
const strength = {flag: 3, env: 2, file: 1, default: 0} as const;

/**
Where to listen: --address (MIRROR_ADDRESS, or EPR_ADDRESS as Elastic's registry
container sets it) when given in a source as strong as the one that gives --host or
--port, else --host and --port. The image sets MIRROR_PORT, so an EPR_ADDRESS given
to the container must win over it.
*/
function listenAddress(reader: Reader): {host: string; port: number} {
	const {read, readings} = reader;
	const host = read(serveDefs.host);
	const port = read(serveDefs.port);
	const address = read(serveDefs.address);
	if (!address) {
		return {host, port};
	}

	const rank = (name: string) => strength[readings.get(name)?.source.kind ?? 'default'];
	const given = rank(serveDefs.address.name);
	return {
		host: given >= rank(serveDefs.host.name) ? address.host : host,
		port: given >= rank(serveDefs.port.name) ? address.port : port,
	};
}

/** Serve's config from `reader`. Throws UsageError. */
export function readServeConfig(reader: Reader): ServeConfig {
	const {read, sources} = reader;
	const {location} = readStore(reader);
	const certPath = read(tlsDefs.tlsCert);
	const keyPath = read(tlsDefs.tlsKey);
	if (Boolean(certPath) !== Boolean(keyPath)) {
		throw new UsageError('--tls-cert and --tls-key go together: give both to serve HTTPS, or neither');
	}

	const publicUrl = read(serveDefs.publicUrl);
	const s3Redirect = read(serveDefs.s3Redirect);
	if (s3Redirect && location.kind !== 's3') {
		throw new UsageError('--s3-redirect needs an s3:// --store to redirect to');
	}

	const s3BlockCacheMiB = read(serveDefs.s3BlockCache);
	const {host, port} = listenAddress(reader);
	const trustProxy = read(serveDefs.trustProxy);
	const drainTimeoutMs = read(serveDefs.drainTimeout) * 1000;
	const accessLog = read(loggingDefs.accessLog);
	const urlFile = read(serveDefs.urlFile);
	const logFormat = read(loggingDefs.logFormat);
	const logLevel = read(loggingDefs.logLevel);
	const metricsAddress = read(serveDefs.metricsAddress);
	const expression = read(serveDefs.syncSchedule);
	const containerRepository = read(serveDefs.containerRepository);
	const workers = read(serveDefs.workers);
	return {
		...(containerRepository === undefined ? {} : {containerRepository}),
		location,
		s3Redirect,
		s3BlockCacheBytes: s3BlockCacheMiB * 1024 * 1024,
		host,
		port,
		publicUrl,
		tls: certPath && keyPath ? {certPath, keyPath} : undefined,
		trustProxy,
		drainTimeoutMs,
		accessLog,
		urlFile,
		logFormat,
		logLevel,
		metricsAddress,
		workers,
		syncSchedule:
			expression === undefined
				? undefined
				: {
						expression,
						// Sync's own options come from the environment and the config file; the
						// mirror is always the one being served.
						options: {
							...readSyncOptions(
								createReader({
									...sources,
									flags: {
										config: sources.flags.config,
										...(location.kind === 'dir' ? {dir: location.dir} : {}),
									},
								}),
							),
							location,
						},
					},
	};
}

/** Load and validate everything `serve` needs. Throws UsageError (exit 2). */
export function loadServeConfig(sources: ConfigSources): ServeConfig {
	return readServeConfig(createReader(sources));
}
