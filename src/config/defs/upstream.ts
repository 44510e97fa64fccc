/**
The options of reaching the upstream and trusting what it serves: its URL and the
versions API, the HTTP client's timeouts, speed floor, size cap and retries, the
extra CA for outgoing TLS, and the keys signatures must verify against. Shared by
sync and verify.
*/
import {bundledKeyPath} from '../../meta.js';
import {existingFile, existingFiles, integer, number, size, url} from './kinds.js';
import {option} from './option.js';

/** The upstream host root. */
export const upstreamOption = option({
	name: 'upstream',
	arg: '<url>',
	env: ['MIRROR_UPSTREAM'],
	description: 'upstream host root (artifacts.elastic.co or another mirror)',
	default: 'https://artifacts.elastic.co',
	...url,
});

/** The version list that resolves ranges and latest. */
export const versionsApiOption = option({
	name: 'versions-api',
	arg: '<url>',
	env: ['MIRROR_VERSIONS_API'],
	description: 'version list used to resolve ranges and latest',
	default: 'https://artifacts-api.elastic.co/v1/versions',
	...url,
});

/** The keys signatures must verify against. */
export const trustedKeyOption = option({
	name: 'trusted-key',
	fileAliases: ['trusted-keys'],
	arg: '<file>',
	repeatable: true,
	env: ['MIRROR_TRUSTED_KEYS'],
	description:
		'armored public key signatures must verify against; repeatable; replaces the default (env: comma-separated)',
	defaultText: 'the bundled GPG-KEY-elasticsearch',
	computedDefault: () => [bundledKeyPath],
	...existingFiles('trusted key'),
});

/** Silence allowed on a connection, in seconds. */
export const timeoutOption = option({
	name: 'timeout',
	arg: '<seconds>',
	env: ['MIRROR_TIMEOUT'],
	description: 'give up on a connection silent this long (connect, first byte, between bytes)',
	default: 30,
	...number(0.1, 3600),
});

/** The speed floor, in bytes per second. */
export const minSpeedOption = option({
	name: 'min-speed',
	arg: '<bytes/s>',
	env: ['MIRROR_MIN_SPEED'],
	description: 'fail (and retry) a transfer slower than this over --min-speed-window; 0 turns it off',
	default: 10_240,
	...integer(0, 2 ** 40),
});

/** How long below the speed floor is allowed, in seconds. */
export const minSpeedWindowOption = option({
	name: 'min-speed-window',
	arg: '<seconds>',
	env: ['MIRROR_MIN_SPEED_WINDOW'],
	description: 'how long a transfer may stay below --min-speed',
	default: 60,
	...number(0.1, 86_400),
});

/** The size cap of one download, in bytes. */
export const maxFileSizeOption = option({
	name: 'max-file-size',
	arg: '<size>',
	env: ['MIRROR_MAX_FILE_SIZE'],
	description: 'refuse a download larger than this (declared or not) before it fills the disk: 8G, 700M',
	default: '8G',
	...size(1024 * 1024, '1M'),
});

/** Retries of a failed transfer. */
export const retriesOption = option({
	name: 'retries',
	arg: '<n>',
	env: ['MIRROR_RETRIES'],
	description: 'retries of a failed transfer (reset, truncated, 5xx, timeout)',
	default: 5,
	...integer(0, 20),
});

/** The first retry delay, in milliseconds. */
export const retryDelayOption = option({
	name: 'retry-delay',
	arg: '<ms>',
	env: ['MIRROR_RETRY_DELAY'],
	description: 'first retry delay; doubles per retry, capped at 30 s',
	default: 1000,
	...integer(0, 600_000),
});

/** An extra CA for outgoing TLS. */
export const caFileOption = option({
	name: 'ca-file',
	arg: '<file>',
	env: ['MIRROR_CA_FILE'],
	description: 'extra CA certificate (PEM) for a TLS-intercepting proxy or an internal upstream',
	defaultText: 'none',
	...existingFile('CA file'),
});
