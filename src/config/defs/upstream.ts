/**
The options of reaching the upstream and trusting what it serves: its URL and the
versions API, the HTTP client's timeouts, speed floor, size cap and retries, the
extra CA for outgoing TLS, and the keys signatures must verify against. Shared by
sync and verify.
*/
import type {OptionDef} from './option.js';

export const upstreamDef: OptionDef = {
	name: 'upstream',
	arg: '<url>',
	env: ['MIRROR_UPSTREAM'],
	description: 'upstream host root (artifacts.elastic.co or another mirror)',
	defaultText: 'https://artifacts.elastic.co',
};

export const versionsApiDef: OptionDef = {
	name: 'versions-api',
	arg: '<url>',
	env: ['MIRROR_VERSIONS_API'],
	description: 'version list used to resolve ranges and latest',
	defaultText: 'https://artifacts-api.elastic.co/v1/versions',
};

export const trustedKeyDef: OptionDef = {
	name: 'trusted-key',
	fileAliases: ['trusted-keys'],
	arg: '<file>',
	repeatable: true,
	env: ['MIRROR_TRUSTED_KEYS'],
	description:
		'armored public key signatures must verify against; repeatable; replaces the default (env: comma-separated)',
	defaultText: 'the bundled GPG-KEY-elasticsearch',
};

export const timeoutDef: OptionDef = {
	name: 'timeout',
	arg: '<seconds>',
	env: ['MIRROR_TIMEOUT'],
	description: 'give up on a connection silent this long (connect, first byte, between bytes)',
	defaultText: '30',
};

export const minSpeedDef: OptionDef = {
	name: 'min-speed',
	arg: '<bytes/s>',
	env: ['MIRROR_MIN_SPEED'],
	description: 'fail (and retry) a transfer slower than this over --min-speed-window; 0 turns it off',
	defaultText: '10240',
};

export const minSpeedWindowDef: OptionDef = {
	name: 'min-speed-window',
	arg: '<seconds>',
	env: ['MIRROR_MIN_SPEED_WINDOW'],
	description: 'how long a transfer may stay below --min-speed',
	defaultText: '60',
};

export const maxFileSizeDef: OptionDef = {
	name: 'max-file-size',
	arg: '<size>',
	env: ['MIRROR_MAX_FILE_SIZE'],
	description: 'refuse a download larger than this (declared or not) before it fills the disk: 8G, 700M',
	defaultText: '8G',
};

export const retriesDef: OptionDef = {
	name: 'retries',
	arg: '<n>',
	env: ['MIRROR_RETRIES'],
	description: 'retries of a failed transfer (reset, truncated, 5xx, timeout)',
	defaultText: '5',
};

export const retryDelayDef: OptionDef = {
	name: 'retry-delay',
	arg: '<ms>',
	env: ['MIRROR_RETRY_DELAY'],
	description: 'first retry delay; doubles per retry, capped at 30 s',
	defaultText: '1000',
};

export const caFileDef: OptionDef = {
	name: 'ca-file',
	arg: '<file>',
	env: ['MIRROR_CA_FILE'],
	description: 'extra CA certificate (PEM) for a TLS-intercepting proxy or an internal upstream',
	defaultText: 'none',
};
