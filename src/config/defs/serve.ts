/**
The options of `serve`, in the order help lists them: the store, the S3 read
path, listening, TLS, shutdown, the in-process schedule and logging.
*/
import {UsageError} from '../../errors.js';
import {checkCronExpression} from '../cron.js';
import {address, boolean, filePath, integer, number, text, url} from './kinds.js';
import {accessLogOption, logFormatOption, logLevelOption} from './logging.js';
import {option} from './option.js';
import {commonOptions} from './store.js';
import {tlsCertOption, tlsKeyOption} from './tls.js';

/** Presigned redirects for artifact bodies. */
export const s3RedirectOption = option({
	name: 's3-redirect',
	env: ['MIRROR_S3_REDIRECT'],
	description:
		'answer artifact downloads with a 302 to a short-lived presigned URL of the store (sidecars, keys and pages stay here)',
	default: false,
	...boolean,
});

/** Memory for shared artifact blocks, in MiB. */
export const s3BlockCacheOption = option({
	name: 's3-block-cache',
	arg: '<MiB>',
	env: ['MIRROR_S3_BLOCK_CACHE'],
	description:
		'memory for blocks of artifacts read from the store, shared by every download of them (0: stream each download from the store)',
	default: 64,
	...integer(0, 65_536),
});

/** The listen address. */
export const hostOption = option({
	name: 'host',
	arg: '<address>',
	env: ['MIRROR_HOST'],
	description: 'address to listen on',
	default: '0.0.0.0',
	...text(
		(raw, origin) => {
			const value = String(raw).trim();
			if (!/^[\w.:-]+$/.test(value)) {
				throw new UsageError(`invalid ${origin.label} "${value}": expected an IP address or host name`);
			}

			return value;
		},
		{pattern: '^\\s*[\\w.:-]+\\s*$'},
	),
});

/** The listen port. */
export const portOption = option({
	name: 'port',
	arg: '<n>',
	env: ['MIRROR_PORT', 'PORT'],
	description: 'port to listen on (0: any free port)',
	default: 8080,
	...integer(0, 65_535),
});

/** The URL users reach the server at. */
export const publicUrlOption = option({
	name: 'public-url',
	arg: '<url>',
	env: ['MIRROR_PUBLIC_URL'],
	description: 'URL users reach this server at, used in generated commands and API links',
	defaultText: 'derived from each request',
	parse: (raw, origin) => {
		const value = url.parse(raw, origin);
		if (/[?#]/.test(value)) {
			throw new UsageError(
				`invalid ${origin.label} "${value}": no query or fragment, just scheme, host and path`,
			);
		}

		return value;
	},
	schema: {...url.schema, pattern: '^\\s*[hH][tT][tT][pP][sS]?://[^?#]*$'},
});

/** Trust X-Forwarded-* headers. */
export const trustProxyOption = option({
	name: 'trust-proxy',
	env: ['MIRROR_TRUST_PROXY'],
	description: 'trust X-Forwarded-Proto/Host/For from a reverse proxy in front',
	default: false,
	...boolean,
});

/** How long a drain may take, in seconds. */
export const drainTimeoutOption = option({
	name: 'drain-timeout',
	arg: '<seconds>',
	env: ['MIRROR_DRAIN_TIMEOUT'],
	description: 'on SIGTERM, how long in-flight downloads may take to finish',
	default: 30,
	...number(0, 86_400),
});

/** The cron schedule of the in-process sync. */
export const syncScheduleOption = option({
	name: 'sync-schedule',
	arg: '<cron>',
	env: ['MIRROR_SYNC_SCHEDULE'],
	description:
		'also run sync in-process on this cron schedule ("30 2 * * *"), with the sync options of the config file and environment',
	defaultText: 'off',
	...text((raw, origin) => checkCronExpression(String(raw).trim(), origin.label), {minLength: 1}),
});

/** Where to leave the local URL once listening. */
export const urlFileOption = option({
	name: 'url-file',
	arg: '<file>',
	env: ['MIRROR_URL_FILE'],
	description:
		'once listening, write the local URL of this server to this file (for artifact-mirror healthcheck)',
	defaultText: 'none',
	...filePath,
});

/** A separate metrics listener. */
export const metricsAddressOption = option({
	name: 'metrics-address',
	arg: '<host:port>',
	env: ['MIRROR_METRICS_ADDRESS'],
	description: 'serve /metrics on this address only (not on the main port), e.g. 127.0.0.1:9464',
	defaultText: 'on the main port',
	...address,
	show: ({host, port}) => `${host}:${port}`,
});

/** The options of `serve`, in the order help lists them. */
export const serveOptions = [
	...commonOptions,
	s3RedirectOption,
	s3BlockCacheOption,
	hostOption,
	portOption,
	publicUrlOption,
	tlsCertOption,
	tlsKeyOption,
	trustProxyOption,
	drainTimeoutOption,
	syncScheduleOption,
	urlFileOption,
	accessLogOption,
	logFormatOption,
	logLevelOption,
	metricsAddressOption,
] as const;
