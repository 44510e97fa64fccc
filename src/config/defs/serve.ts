/**
The options of `serve`, in the order help lists them: the store, the S3 read
path, listening, TLS, shutdown, the in-process schedule and logging.
*/

import {UsageError} from '../../errors.js';
import {isRepository} from '../../images/catalog.js';
import {usableCpus} from '../cpus.js';
import {checkCronExpression} from '../cron.js';
import {address, boolean, filePath, integer, matching, seconds, text, url} from './kinds.js';
import {loggingDefs} from './logging.js';
import {group} from './option.js';
import {commonOptions} from './store.js';
import {tlsDefs} from './tls.js';

/**
Serve's own options: the S3 read path (presigned redirects, shared blocks),
listening, the public URL, proxies, draining, the in-process sync schedule, the
URL file for healthcheck and the metrics listener.
*/
export const serveDefs = group({
	s3Redirect: {
		...boolean,
		description:
			'answer artifact downloads with a 302 to a short-lived presigned URL of the store (sidecars, keys and pages stay here)',
		default: false,
	},
	s3BlockCache: {
		...integer(0, 65_536),
		arg: '<MiB>',
		description:
			'memory for blocks of artifacts read from the store, shared by every download of them (0: stream each download from the store)',
		default: 64,
	},
	host: {
		...matching(/^[\w.:-]+$/, '^\\s*[\\w.:-]+\\s*$', 'an IP address or host name'),
		arg: '<address>',
		description: 'address to listen on',
		default: '0.0.0.0',
	},
	port: {
		...integer(0, 65_535),
		env: ['MIRROR_PORT', 'PORT'],
		description: 'port to listen on (0: any free port)',
		default: 8080,
	},
	address: {
		...address,
		// EPR_ADDRESS is what Elastic's registry container reads: its compose files work unchanged.
		env: ['MIRROR_ADDRESS', 'EPR_ADDRESS'],
		description:
			'host:port to listen on, instead of --host and --port (wins over them when given in the same place or a stronger one)',
		defaultText: '--host:--port',
		show: ({host, port}) => `${host}:${port}`,
	},
	publicUrl: {
		...url,
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
	},
	trustProxy: {
		...boolean,
		description: 'trust X-Forwarded-Proto/Host/For from a reverse proxy in front',
		default: false,
	},
	drainTimeout: {
		...seconds(0, 86_400),
		description: 'on SIGTERM, how long in-flight downloads may take to finish',
		default: 30,
	},
	syncSchedule: {
		arg: '<cron>',
		description:
			'also run sync in-process on this cron schedule ("30 2 * * *"), with the sync options of the config file and environment',
		defaultText: 'off',
		...text((raw, origin) => checkCronExpression(String(raw).trim(), origin.label), {minLength: 1}),
	},
	urlFile: {
		...filePath,
		description:
			'once listening, write the local URL of this server to this file (for artifact-mirror healthcheck)',
		defaultText: 'none',
	},
	containerRepository: {
		arg: '<name>',
		description:
			"also serve every image under ECK's --container-repository name: NAME/<last component> (elasticsearch/elasticsearch as NAME/elasticsearch)",
		defaultText: 'default names only',
		...text(
			(raw, origin) => {
				const value = String(raw).trim();
				if (!isRepository(value)) {
					throw new UsageError(
						`invalid ${origin.label} "${value}": expected a repository path (lower-case components joined by /, e.g. elastic or mirror/eck)`,
					);
				}

				return value;
			},
			{minLength: 1},
		),
	},
	workers: {
		...integer(1, 256),
		description:
			'server processes answering on the same port (1: one process, no cluster); memory budgets are divided among them',
		defaultText: "the number of cores, or the container's CPU quota when lower",
		computedDefault: () => usableCpus(),
	},
	metricsAddress: {
		...address,
		description: 'serve /metrics on this address only (not on the main port), e.g. 127.0.0.1:9464',
		defaultText: 'on the main port',
		show: ({host, port}) => `${host}:${port}`,
	},
});

/** The options of `serve`, in the order help lists them. */
export const serveOptions = [
	...commonOptions,
	serveDefs.s3Redirect,
	serveDefs.s3BlockCache,
	serveDefs.host,
	serveDefs.port,
	serveDefs.address,
	serveDefs.publicUrl,
	tlsDefs.tlsCert,
	tlsDefs.tlsKey,
	serveDefs.trustProxy,
	serveDefs.drainTimeout,
	serveDefs.workers,
	serveDefs.syncSchedule,
	serveDefs.urlFile,
	serveDefs.containerRepository,
	...Object.values(loggingDefs),
	serveDefs.metricsAddress,
] as const;
