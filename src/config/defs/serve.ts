/**
The option list of `serve`, in the order help lists them, and the log levels.
*/
import type {OptionDef} from './option.js';
import {commonDefs} from './store.js';

/** Log levels, most verbose first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The options of `serve`, in the order help lists them. */
export const serveOptionDefs: readonly OptionDef[] = [
	...commonDefs,
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
