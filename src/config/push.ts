/**
The config of `push-images`: the mirror, the registry to push into and the names to
use there, the registry credential files (as sync reads them), and how to reach the
registry (CA file, proxy, timeouts, retries).
*/
import {readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {UsageError} from '../errors.js';
import {userAgent} from '../meta.js';
import type {HttpConfig} from '../upstream/types.js';
import {pushDefs} from './defs/push.js';
import {upstreamDefs} from './defs/upstream.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {proxyEnv, readStore, type StoreChoice} from './store.js';
import {credentialFiles} from './sync.js';

/** What `push-images` runs with. */
export type PushConfig = StoreChoice & {
	/** The destination registry's root URL, without a trailing slash. */
	readonly to: string;
	/** `--container-repository`: push as `NAME/<last component>`; undefined: ECK's default names. */
	readonly containerRepository: string | undefined;
	readonly concurrency: number;
	readonly dryRun: boolean;
	readonly json: boolean;
	/** Registry credential files, in lookup order (REGISTRY_AUTH_FILE, then Docker's config.json). */
	readonly credentialFiles: readonly string[];
	readonly http: HttpConfig;
};

/** push-images' config from `reader`. Throws UsageError. */
export function readPushConfig(reader: Reader): PushConfig {
	const {read} = reader;
	const {location} = readStore(reader);
	const to = read(pushDefs.to);
	if (to === undefined) {
		throw new UsageError(
			'no --to given: the registry to push the images into, e.g. --to https://registry.example.internal',
		);
	}

	const caFile = read(upstreamDefs.caFile);
	const env = reader.sources.env;
	return {
		location,
		to,
		containerRepository: read(pushDefs.containerRepository),
		concurrency: read(pushDefs.concurrency),
		dryRun: read(pushDefs.dryRun) ?? false,
		json: read(pushDefs.json) ?? false,
		credentialFiles: credentialFiles(env, env.HOME ?? homedir()),
		http: {
			timeoutMs: read(upstreamDefs.timeout) * 1000,
			retries: read(upstreamDefs.retries),
			retryDelayMs: read(upstreamDefs.retryDelay),
			ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
			proxy: proxyEnv(env),
			userAgent,
		},
	};
}

/** Load and validate `push-images`' options. */
export function loadPushConfig(sources: ConfigSources): PushConfig {
	return readPushConfig(createReader(sources));
}
