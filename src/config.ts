/**
Configuration, loaded and validated once per command. Every option has one entry in
a table that gives its flag, environment variables, config-file key, default and
parser; precedence is flags > environment > YAML config file > defaults. The
environment arrives as an argument: nothing else in the project reads process.env.
*/
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {defaultPlatformIds, getPlatform, getProduct, platforms, products, suggest} from './catalog.js';
import {UsageError} from './errors.js';
import type {PruneRules} from './maintain/prune.js';
import {bundledKeyPath, userAgent} from './meta.js';
import {redactText} from './redact.js';
import {checkCronExpression} from './server/schedule.js';
import {isS3Url, parseS3Url, type S3Location} from './store/s3/location.js';
import type {Selection} from './store/select.js';
import type {SyncOptions} from './sync/run.js';
import {parseVersionSpecs} from './versions.js';

/** A raw value as it arrives from a flag, the environment or YAML. */
type Raw = string | number | boolean | string[] | null | undefined | Record<string, unknown> | unknown[];

/** Where a value came from, to name it in errors and to resolve relative paths. */
type Origin = {label: string; baseDir: string};

/** One option of one command. */
export type OptionDef = {
	/** Kebab-case name: the flag is `--<name>`, the config-file key is `<name>`. */
	readonly name: string;
	/** Other config-file keys accepted for it. */
	readonly fileAliases?: readonly string[];
	readonly env?: readonly string[];
	/** Placeholder for the value; absent for on/off flags. */
	readonly arg?: string;
	readonly repeatable?: boolean;
	readonly description: string;
	/** The default as help shows it. */
	readonly defaultText?: string;
	/** Only a flag: no env var, no config-file key. */
	readonly flagOnly?: boolean;
	/** On by default or by the environment: `--no-<name>` turns it off. */
	readonly negatable?: boolean;
};

function splitList(raw: Raw): string[] {
	const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
	return items.map((item) => item.trim()).filter((item) => item !== '');
}

function parseBoolean(raw: Raw, origin: Origin): boolean {
	if (typeof raw === 'boolean') {
		return raw;
	}

	const text = String(raw).trim().toLowerCase();
	if (['1', 'true', 'yes', 'on'].includes(text)) {
		return true;
	}

	if (['0', 'false', 'no', 'off', ''].includes(text)) {
		return false;
	}

	throw new UsageError(`invalid ${origin.label} "${String(raw)}": expected true or false`);
}

function parseInteger(raw: Raw, origin: Origin, min: number, max: number): number {
	const text = String(raw).trim();
	const value = Number(text);
	if (!/^\d+$/.test(text) || value < min || value > max) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected a whole number from ${min} to ${max}`);
	}

	return value;
}

function parseNumber(raw: Raw, origin: Origin, min: number, max: number): number {
	const text = String(raw).trim();
	const value = Number(text);
	if (text === '' || !Number.isFinite(value) || value < min || value > max) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected a number from ${min} to ${max}`);
	}

	return value;
}

const sizeUnits: Record<string, number> = {'': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4};

/** A size in bytes written like 4G, 700M or 1048576, at least `min` bytes. */
function parseSize(raw: Raw, origin: Origin, min: number, minText: string): number {
	const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(String(raw).trim());
	const size = match ? Math.floor(Number(match[1]) * (sizeUnits[(match[2] ?? '').toUpperCase()] ?? 1)) : 0;
	if (size < min) {
		throw new UsageError(
			`invalid ${origin.label} "${String(raw)}": expected a size of at least ${minText}, like 4G or 700M`,
		);
	}

	return size;
}

function parseUrl(raw: Raw, origin: Origin): string {
	const text = String(raw).trim();
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError(
			`invalid ${origin.label} "${redactText(text)}": expected an http:// or https:// URL`,
		);
	}

	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new UsageError(
			`invalid ${origin.label} "${redactText(text)}": expected an http:// or https:// URL`,
		);
	}

	return text.replace(/\/+$/, '');
}

function parsePath(raw: Raw, origin: Origin): string {
	const text = String(raw).trim();
	if (text === '') {
		throw new UsageError(`invalid ${origin.label}: empty path`);
	}

	return path.resolve(origin.baseDir, text);
}

function readablePath(raw: Raw, origin: Origin, what: string): string {
	const file = parsePath(raw, origin);
	if (!existsSync(file)) {
		throw new UsageError(`${what} ${file} (from ${origin.label}) does not exist`);
	}

	return file;
}

function parseNames(
	raw: Raw,
	origin: Origin,
	known: readonly string[],
	exists: (name: string) => boolean,
	what: string,
): string[] {
	const names = splitList(raw);
	if (names.length === 1 && names[0] === 'all') {
		return [...known];
	}

	for (const name of names) {
		if (!exists(name)) {
			const near = suggest(name, known);
			const hint = near ? `; did you mean "${near}"?` : `; known: ${known.join(', ')}`;
			throw new UsageError(`unknown ${what} "${name}" in ${origin.label}${hint}`);
		}
	}

	if (names.length === 0) {
		throw new UsageError(`${origin.label} is empty`);
	}

	return [...new Set(names)];
}

const configDef: OptionDef = {
	name: 'config',
	arg: '<file>',
	description: 'YAML config file (sync and serve read the same one)',
	defaultText: './mirror.yml when present',
	flagOnly: true,
};

const dirDef: OptionDef = {
	name: 'dir',
	arg: '<path>',
	env: ['MIRROR_DIR'],
	description: 'root of the mirror tree',
	defaultText: './artifacts',
};

const storeDef: OptionDef = {
	name: 'store',
	arg: '<path|s3://bucket[/prefix]>',
	env: ['MIRROR_STORE'],
	description: 'where the mirror lives: a directory (same as --dir) or an S3 bucket and prefix',
	defaultText: 'the --dir directory',
};

/** How to reach an S3 store; credentials come from the AWS SDK's chain, never from flags. */
const s3Defs: readonly OptionDef[] = [
	{
		name: 's3-endpoint',
		arg: '<url>',
		env: ['MIRROR_S3_ENDPOINT'],
		description: 'endpoint of an S3-compatible store (Ceph RGW, MinIO)',
		defaultText: 'AWS S3',
	},
	{
		name: 's3-region',
		arg: '<region>',
		env: ['MIRROR_S3_REGION'],
		description: 'region of the bucket',
		defaultText: 'us-east-1',
	},
	{
		name: 's3-path-style',
		env: ['MIRROR_S3_PATH_STYLE'],
		description: 'address buckets as endpoint/bucket (Ceph RGW and MinIO need it)',
		defaultText: 'off',
	},
];

/** The options of `sync`, in the order help lists them. */
export const syncOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	{
		name: 'upstream',
		arg: '<url>',
		env: ['MIRROR_UPSTREAM'],
		description: 'upstream host root (artifacts.elastic.co or another mirror)',
		defaultText: 'https://artifacts.elastic.co',
	},
	{
		name: 'versions-api',
		arg: '<url>',
		env: ['MIRROR_VERSIONS_API'],
		description: 'version list used to resolve ranges and latest',
		defaultText: 'https://artifacts-api.elastic.co/v1/versions',
	},
	{
		name: 'versions',
		arg: '<list>',
		env: ['MIRROR_VERSIONS'],
		description: 'comma-separated exact versions, semver ranges (9.1.x, ">=8.17.0 <9") and latest',
		defaultText: 'required',
	},
	{
		name: 'products',
		arg: '<list>',
		env: ['MIRROR_PRODUCTS'],
		description: `comma-separated products, or all: ${products.map((product) => product.name).join(', ')}`,
		defaultText: 'elastic-agent',
	},
	{
		name: 'platforms',
		arg: '<list>',
		env: ['MIRROR_PLATFORMS'],
		description: `comma-separated platforms, or all: ${platforms.map((platform) => platform.id).join(', ')}`,
		defaultText: defaultPlatformIds.join(','),
	},
	{
		name: 'fips',
		env: ['MIRROR_FIPS'],
		description: 'also mirror elastic-agent-fips-* where published',
		defaultText: 'off',
	},
	{
		name: 'trusted-key',
		fileAliases: ['trusted-keys'],
		arg: '<file>',
		repeatable: true,
		env: ['MIRROR_TRUSTED_KEYS'],
		description:
			'armored public key signatures must verify against; repeatable; replaces the default (env: comma-separated)',
		defaultText: 'the bundled GPG-KEY-elasticsearch',
	},
	{
		name: 'concurrency',
		arg: '<n>',
		env: ['MIRROR_CONCURRENCY'],
		description: 'files downloaded at once (1-64)',
		defaultText: '4',
	},
	{
		name: 'timeout',
		arg: '<seconds>',
		env: ['MIRROR_TIMEOUT'],
		description: 'give up on a connection silent this long (connect, first byte, between bytes)',
		defaultText: '30',
	},
	{
		name: 'min-speed',
		arg: '<bytes/s>',
		env: ['MIRROR_MIN_SPEED'],
		description: 'fail (and retry) a transfer slower than this over --min-speed-window; 0 turns it off',
		defaultText: '10240',
	},
	{
		name: 'min-speed-window',
		arg: '<seconds>',
		env: ['MIRROR_MIN_SPEED_WINDOW'],
		description: 'how long a transfer may stay below --min-speed',
		defaultText: '60',
	},
	{
		name: 'max-file-size',
		arg: '<size>',
		env: ['MIRROR_MAX_FILE_SIZE'],
		description: 'refuse a download larger than this (declared or not) before it fills the disk: 8G, 700M',
		defaultText: '8G',
	},
	{
		name: 'retries',
		arg: '<n>',
		env: ['MIRROR_RETRIES'],
		description: 'retries of a failed transfer (reset, truncated, 5xx, timeout)',
		defaultText: '5',
	},
	{
		name: 'retry-delay',
		arg: '<ms>',
		env: ['MIRROR_RETRY_DELAY'],
		description: 'first retry delay; doubles per retry, capped at 30 s',
		defaultText: '1000',
	},
	{
		name: 'ca-file',
		arg: '<file>',
		env: ['MIRROR_CA_FILE'],
		description: 'extra CA certificate (PEM) for a TLS-intercepting proxy or an internal upstream',
		defaultText: 'none',
	},
	{name: 'dry-run', description: 'print the plan (fetch, skip and why) and touch nothing', flagOnly: true},
	{
		name: 'json',
		description: 'JSON lines on stdout (events, then a summary); --no-json for text',
		defaultText: 'on unless stdout is a TTY',
		flagOnly: true,
		negatable: true,
	},
];

/** Log levels, most verbose first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The options of `serve`, in the order help lists them. */
export const serveOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	{
		name: 's3-redirect',
		env: ['MIRROR_S3_REDIRECT'],
		description:
			'answer artifact downloads with a 302 to a short-lived presigned URL of the store (sidecars, keys and pages stay here)',
		defaultText: 'off',
	},
	{
		name: 's3-block-cache',
		arg: '<MiB>',
		env: ['MIRROR_S3_BLOCK_CACHE'],
		description:
			'memory for blocks of artifacts read from the store, shared by every download of them (0: stream each download from the store)',
		defaultText: '64',
	},
	{
		name: 'host',
		arg: '<address>',
		env: ['MIRROR_HOST'],
		description: 'address to listen on',
		defaultText: '0.0.0.0',
	},
	{
		name: 'port',
		arg: '<n>',
		env: ['MIRROR_PORT', 'PORT'],
		description: 'port to listen on (0: any free port)',
		defaultText: '8080',
	},
	{
		name: 'public-url',
		arg: '<url>',
		env: ['MIRROR_PUBLIC_URL'],
		description: 'URL users reach this server at, used in generated commands and API links',
		defaultText: 'derived from each request',
	},
	{
		name: 'tls-cert',
		arg: '<file>',
		env: ['MIRROR_TLS_CERT'],
		description: 'PEM certificate chain: serve HTTPS (re-read on SIGHUP)',
		defaultText: 'plain HTTP',
	},
	{
		name: 'tls-key',
		arg: '<file>',
		env: ['MIRROR_TLS_KEY'],
		description: 'PEM private key for --tls-cert (re-read on SIGHUP)',
	},
	{
		name: 'trust-proxy',
		env: ['MIRROR_TRUST_PROXY'],
		description: 'trust X-Forwarded-Proto/Host/For from a reverse proxy in front',
		defaultText: 'off',
	},
	{
		name: 'drain-timeout',
		arg: '<seconds>',
		env: ['MIRROR_DRAIN_TIMEOUT'],
		description: 'on SIGTERM, how long in-flight downloads may take to finish',
		defaultText: '30',
	},
	{
		name: 'sync-schedule',
		arg: '<cron>',
		env: ['MIRROR_SYNC_SCHEDULE'],
		description:
			'also run sync in-process on this cron schedule ("30 2 * * *"), with the sync options of the config file and environment',
		defaultText: 'off',
	},
	{
		name: 'url-file',
		arg: '<file>',
		env: ['MIRROR_URL_FILE'],
		description:
			'once listening, write the local URL of this server to this file (for artifact-mirror healthcheck)',
		defaultText: 'none',
	},
	{
		name: 'access-log',
		env: ['MIRROR_ACCESS_LOG'],
		description: 'one JSON line per request on stdout; --no-access-log to turn off',
		defaultText: 'on',
		negatable: true,
	},
	{
		name: 'log-format',
		arg: '<json|ecs>',
		env: ['MIRROR_LOG_FORMAT'],
		description: 'log lines as plain JSON, or as ECS JSON (Elastic Common Schema) for an Elastic pipeline',
		defaultText: 'json',
	},
	{
		name: 'log-level',
		arg: '<level>',
		env: ['MIRROR_LOG_LEVEL'],
		description: `lowest level logged: ${logLevels.join(', ')} (warn and up leaves out the access log)`,
		defaultText: 'info',
	},
	{
		name: 'metrics-address',
		arg: '<host:port>',
		env: ['MIRROR_METRICS_ADDRESS'],
		description: 'serve /metrics on this address only (not on the main port), e.g. 127.0.0.1:9464',
		defaultText: 'on the main port',
	},
];

/** Every config-file key any command reads; others are reported as typos. */
const knownFileKeys = new Set(
	[...syncOptionDefs, ...serveOptionDefs]
		.filter((def) => !def.flagOnly)
		.flatMap((def) => [def.name, ...(def.fileAliases ?? [])]),
);

/** The sources the loader merges. */
export type ConfigSources = {
	/** Flags as the CLI parsed them, keyed by kebab-case name; absent when not given. */
	readonly flags: Readonly<Record<string, Raw>>;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly cwd: string;
};

type Lookup = (def: OptionDef) => {raw: Raw; origin: Origin} | undefined;

function readConfigFile(sources: ConfigSources): {data: Record<string, Raw>; file: string} | undefined {
	const given = sources.flags.config;
	const file = given ? path.resolve(sources.cwd, String(given)) : path.join(sources.cwd, 'mirror.yml');
	if (!existsSync(file)) {
		if (given) {
			throw new UsageError(`config file ${file} does not exist`);
		}

		return undefined;
	}

	let data: unknown;
	try {
		data = YAML.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		throw new UsageError(`cannot read config file ${file}: ${(error as Error).message.split('\n')[0]}`);
	}

	if (data === null || data === undefined) {
		return {data: {}, file};
	}

	if (typeof data !== 'object' || Array.isArray(data)) {
		throw new UsageError(`config file ${file} must be a mapping of option names to values`);
	}

	for (const key of Object.keys(data)) {
		if (!knownFileKeys.has(key)) {
			const near = suggest(key, [...knownFileKeys]);
			throw new UsageError(`unknown key "${key}" in ${file}${near ? `; did you mean "${near}"?` : ''}`);
		}
	}

	return {data: data as Record<string, Raw>, file};
}

function createLookup(sources: ConfigSources): Lookup {
	const config = readConfigFile(sources);
	return (def) => {
		const flag = sources.flags[def.name];
		if (flag !== undefined) {
			return {raw: flag, origin: {label: `--${def.name}`, baseDir: sources.cwd}};
		}

		if (def.flagOnly) {
			return undefined;
		}

		for (const name of def.env ?? []) {
			const value = sources.env[name];
			if (value !== undefined && value !== '') {
				return {raw: value, origin: {label: name, baseDir: sources.cwd}};
			}
		}

		if (config) {
			for (const key of [def.name, ...(def.fileAliases ?? [])]) {
				if (key in config.data) {
					return {
						raw: config.data[key],
						origin: {label: `${path.basename(config.file)}: ${key}`, baseDir: path.dirname(config.file)},
					};
				}
			}
		}

		return undefined;
	};
}

/** Read one command's options by name: the raw value and its origin, or parsed with a fallback. */
function createReader(sources: ConfigSources, defs: readonly OptionDef[]) {
	const lookup = createLookup(sources);
	const get = (name: string) => {
		const def = defs.find((candidate) => candidate.name === name);
		if (!def) {
			throw new Error(`no option ${name}`);
		}

		return lookup(def);
	};

	const orDefault = <T>(name: string, parse: (raw: Raw, origin: Origin) => T, fallback: T): T => {
		const found = get(name);
		return found ? parse(found.raw, found.origin) : fallback;
	};

	return {get, orDefault};
}

/** Where a command's mirror is: a directory, or an S3 location (then `dir` is unused). */
export type StoreChoice = {readonly dir: string; readonly store: S3Location | undefined};

/** The proxy settings of the environment (upper or lower case names, as curl reads them). */
function proxyEnv(env: ConfigSources['env']): NonNullable<S3Location['proxy']> {
	return {
		https: env.HTTPS_PROXY ?? env.https_proxy,
		http: env.HTTP_PROXY ?? env.http_proxy,
		noProxy: env.NO_PROXY ?? env.no_proxy,
	};
}

/** `{proxy}` for an S3 location when a proxy is set; nothing otherwise. */
function proxyOf(env: ConfigSources['env']): {proxy?: S3Location['proxy']} {
	const proxy = proxyEnv(env);
	return proxy.https || proxy.http ? {proxy} : {};
}

function readStore(sources: ConfigSources, reader: ReturnType<typeof createReader>): StoreChoice {
	const {get, orDefault} = reader;
	const dir = orDefault('dir', parsePath, path.resolve(sources.cwd, 'artifacts'));
	const given = get('store');
	if (!given) {
		return {dir, store: undefined};
	}

	const text = String(given.raw).trim();
	if (!isS3Url(text)) {
		return {dir: parsePath(text, given.origin), store: undefined};
	}

	const {bucket, prefix} = parseS3Url(text, given.origin.label);
	const env = sources.env;
	const accessKeyId = env.AWS_ACCESS_KEY_ID;
	const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
	if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
		throw new UsageError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither');
	}

	return {
		dir,
		store: {
			bucket,
			prefix,
			endpoint: orDefault('s3-endpoint', parseUrl, undefined),
			region: orDefault(
				's3-region',
				(raw, origin) => {
					const region = String(raw).trim();
					if (!/^[a-z0-9-]{1,64}$/i.test(region)) {
						throw new UsageError(
							`invalid ${origin.label} "${region}": expected a region name like us-east-1`,
						);
					}

					return region;
				},
				'us-east-1',
			),
			pathStyle: orDefault('s3-path-style', parseBoolean, false),
			credentials:
				accessKeyId && secretAccessKey
					? {accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined}
					: undefined,
			...proxyOf(env),
		},
	};
}

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
	const {dir, store} = readStore(sources, reader);

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
			dir,
			store,
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

function parseChoice<T extends string>(raw: Raw, origin: Origin, choices: readonly T[]): T {
	const text = String(raw).trim().toLowerCase();
	if (!(choices as readonly string[]).includes(text)) {
		const expected = choices.length === 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`;
		throw new UsageError(`invalid ${origin.label} "${String(raw)}": expected ${expected}`);
	}

	return text as T;
}

function parseAddress(raw: Raw, origin: Origin): {host: string; port: number} {
	const text = String(raw).trim();
	const match = /^(\[[\da-fA-F:]+\]|[\w.-]*):(\d{1,5})$/.exec(text);
	const port = Number(match?.[2]);
	if (!match || port > 65_535) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected host:port, e.g. 127.0.0.1:9464`);
	}

	return {host: (match[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port};
}

/** What `serve` runs with. */
export type ServeConfig = {
	readonly dir: string;
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
	/** Serve from this object store instead of `dir`. */
	readonly store?: S3Location | undefined;
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
	const {dir, store} = readStore(sources, reader);

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
	if (s3Redirect && !store) {
		throw new UsageError('--s3-redirect needs an s3:// --store to redirect to');
	}

	const s3BlockCacheMiB = orDefault(
		's3-block-cache',
		(raw, origin) => parseInteger(raw, origin, 0, 65_536),
		64,
	);
	return {
		dir,
		store,
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
					...loadSyncConfig({...sources, flags: {config: sources.flags.config, dir}}).options,
					dir,
					store,
				},
			}),
			undefined,
		),
	};
}

/** Pick shared option definitions by name, in this order. */
function pick(defs: readonly OptionDef[], names: readonly string[]): OptionDef[] {
	return names.map((name) => {
		const def = defs.find((candidate) => candidate.name === name);
		if (!def) {
			throw new Error(`no option ${name}`);
		}

		return def;
	});
}

/** The selection flags of export: flags only, so a config file's sync selection never narrows a bundle. */
const selectionFlags: OptionDef[] = pick(syncOptionDefs, ['products', 'versions', 'platforms']).map(
	(def) => ({
		...def,
		flagOnly: true,
		description: `only these ${def.name}: ${def.name === 'versions' ? 'exact, ranges and latest, against what the mirror holds' : 'comma-separated'}`,
		defaultText: 'all',
	}),
);

/** The options of `export`. */
export const exportOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	{
		name: 'out',
		arg: '<file>',
		description: 'bundle file to write, or - for stdout',
		defaultText: 'required',
		flagOnly: true,
	},
	{
		name: 'split-size',
		arg: '<size>',
		description: 'write numbered parts (<file>.001, .002, ...) of at most this size: 4G, 700M',
		defaultText: 'one file',
		flagOnly: true,
	},
	...selectionFlags,
	{
		name: 'since',
		arg: '<date|last>',
		description: 'only files published after this ISO date, or after the previous export (last)',
		defaultText: 'everything',
		flagOnly: true,
	},
];

/** The options of `import`. */
export const importOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	...pick(syncOptionDefs, ['trusted-key']),
];

/** The options of `verify`. */
export const verifyOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	...pick(syncOptionDefs, ['trusted-key']),
	{
		name: 'repair',
		description: 'move bad artifacts to .mirror/quarantine/ and fetch them again from the upstream',
		defaultText: 'off',
		flagOnly: true,
	},
	...pick(syncOptionDefs, ['upstream', 'ca-file', 'timeout', 'retries', 'retry-delay']),
];

/** The options of `prune`. */
export const pruneOptionDefs: readonly OptionDef[] = [
	configDef,
	dirDef,
	storeDef,
	...s3Defs,
	{
		name: 'keep-latest',
		arg: '<n>',
		description: 'keep the newest N versions of each product and major.minor',
		flagOnly: true,
	},
	{
		name: 'keep-versions',
		arg: '<list>',
		description: 'keep versions matching these (syntax of sync --versions)',
		flagOnly: true,
	},
	{
		name: 'unselected',
		description: 'remove what the sync config (versions, products, platforms, fips) no longer selects',
		flagOnly: true,
	},
	{name: 'yes', description: 'delete; without it prune only prints what it would delete', flagOnly: true},
	{
		name: 'dry-run',
		description: 'only print what would be deleted (the default without --yes)',
		flagOnly: true,
	},
];

/** What `export` runs with. */
export type ExportConfig = StoreChoice & {
	readonly out: string;
	readonly splitSize: number | undefined;
	readonly selection: Selection;
	readonly since: Date | 'last' | undefined;
};

/** Load and validate `export`'s options. */
export function loadExportConfig(sources: ConfigSources): ExportConfig {
	const reader = createReader(sources, exportOptionDefs);
	const {get, orDefault} = reader;
	const {dir, store} = readStore(sources, reader);
	const out = get('out');
	if (!out) {
		throw new UsageError('no --out given: a bundle file name, or - for stdout');
	}

	const list = (name: string, known: readonly string[], what: string) =>
		orDefault(
			name,
			(raw, origin) => parseNames(raw, origin, known, (item) => known.includes(item), what),
			undefined,
		);
	const outText = String(out.raw).trim();
	return {
		dir,
		store,
		out: outText === '-' ? '-' : parsePath(outText, out.origin),
		splitSize: orDefault('split-size', (raw, origin) => parseSize(raw, origin, 1024 * 1024, '1M'), undefined),
		selection: {
			products: list(
				'products',
				products.map((product) => product.name),
				'product',
			),
			platforms: list(
				'platforms',
				platforms.map((platform) => platform.id),
				'platform',
			),
			versions: orDefault(
				'versions',
				(raw, origin) => parseVersionSpecs(splitList(raw), origin.label),
				undefined,
			),
		},
		since: orDefault(
			'since',
			(raw, origin) => {
				const text = String(raw).trim();
				if (text === 'last') {
					return 'last' as const;
				}

				const date = new Date(text);
				if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
					throw new UsageError(
						`invalid ${origin.label} "${text}": expected an ISO date (2026-11-01 or 2026-11-01T12:00Z) or last`,
					);
				}

				return date;
			},
			undefined,
		),
	};
}

/** What `import` runs with. */
export type ImportConfig = StoreChoice & {readonly trustedKeyPaths: readonly string[]};

/** Load and validate `import`'s options: sync's, for the mirror and the trusted keys. */
export function loadImportConfig(sources: ConfigSources): ImportConfig {
	const options = loadSyncConfig(sources, {requireVersions: false}).options;
	return {dir: options.dir, store: options.store, trustedKeyPaths: options.trustedKeyPaths};
}

/** What `verify` runs with: sync's options give the upstream for repairs. */
export type VerifyConfig = {readonly sync: SyncOptions; readonly repair: boolean};

/** Load and validate `verify`'s options. */
export function loadVerifyConfig(sources: ConfigSources): VerifyConfig {
	return {
		sync: loadSyncConfig(sources, {requireVersions: false}).options,
		repair: Boolean(sources.flags.repair),
	};
}

/** What `prune` runs with. */
export type PruneConfig = StoreChoice & {readonly rules: PruneRules; readonly yes: boolean};

/** Load and validate `prune`'s options; at least one rule is required. */
export function loadPruneConfig(sources: ConfigSources): PruneConfig {
	const reader = createReader(sources, pruneOptionDefs);
	const {orDefault} = reader;
	const {dir, store} = readStore(sources, reader);
	const keepLatest = orDefault('keep-latest', (raw, origin) => parseInteger(raw, origin, 1, 1000), undefined);
	const keepVersions = orDefault(
		'keep-versions',
		(raw, origin) => parseVersionSpecs(splitList(raw), origin.label),
		undefined,
	);
	const unselected = Boolean(sources.flags.unselected);
	if (sources.flags['dry-run'] && sources.flags.yes) {
		throw new UsageError(
			'--dry-run and --yes contradict each other: prune without --yes is already a dry run',
		);
	}

	if (keepLatest === undefined && keepVersions === undefined && !unselected) {
		throw new UsageError('prune needs a rule: --keep-latest N, --keep-versions LIST or --unselected');
	}

	// --unselected: the selection sync would make from the environment and config file.
	const selection = unselected
		? (() => {
				const sync = loadSyncConfig({...sources, flags: {config: sources.flags.config}}).options;
				return {products: sync.products, platforms: sync.platforms, versions: sync.versions, fips: sync.fips};
			})()
		: undefined;
	return {
		dir,
		store,
		rules: {keepLatest, keepVersions, selection},
		yes: Boolean(sources.flags.yes),
	};
}
