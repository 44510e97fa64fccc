/**
The options of reaching the upstream and trusting what it serves. Shared by sync
and verify (whose repairs fetch again).
*/
import {bundledKeyPath} from '../../meta.js';
import {existingFile, existingFiles, integer, seconds, size, url} from './kinds.js';
import {group} from './option.js';

/**
The upstream's URL and the versions API, the keys signatures must verify against,
the HTTP client's timeout, speed floor, size cap and retries, and the extra CA for
outgoing TLS.
*/
export const upstreamDefs = group({
	upstream: {
		...url,
		description: 'upstream host root (artifacts.elastic.co or another mirror)',
		default: 'https://artifacts.elastic.co',
	},
	versionsApi: {
		...url,
		description: 'version list used to resolve ranges and latest',
		default: 'https://artifacts-api.elastic.co/v1/versions',
	},
	trustedKey: {
		...existingFiles('trusted key'),
		fileAliases: ['trusted-keys'],
		repeatable: true,
		env: ['MIRROR_TRUSTED_KEYS'],
		description:
			'armored public key signatures must verify against; repeatable; replaces the default (env: comma-separated)',
		defaultText: 'the bundled GPG-KEY-elasticsearch',
		computedDefault: () => [bundledKeyPath],
	},
	timeout: {
		...seconds(0.1, 3600),
		description: 'give up on a connection silent this long (connect, first byte, between bytes)',
		default: 30,
	},
	minSpeed: {
		...integer(0, 2 ** 40),
		arg: '<bytes/s>',
		description: 'fail (and retry) a transfer slower than this over --min-speed-window; 0 turns it off',
		default: 10_240,
	},
	minSpeedWindow: {
		...seconds(0.1, 86_400),
		description: 'how long a transfer may stay below --min-speed',
		default: 60,
	},
	maxFileSize: {
		...size(1024 * 1024, '1M'),
		description: 'refuse a download larger than this (declared or not) before it fills the disk: 8G, 700M',
		default: '8G',
	},
	retries: {
		...integer(0, 20),
		description: 'retries of a failed transfer (reset, truncated, 5xx, timeout)',
		default: 5,
	},
	retryDelay: {
		...integer(0, 600_000),
		arg: '<ms>',
		description: 'first retry delay; doubles per retry, capped at 30 s',
		default: 1000,
	},
	caFile: {
		...existingFile('CA file'),
		description: 'extra CA certificate (PEM) for a TLS-intercepting proxy or an internal upstream',
		defaultText: 'none',
	},
});
