/**
Where a command's mirror is (a directory, or an S3 location with its endpoint,
region, credentials and proxy), read from the store options every command shares.
*/
import {UsageError} from '../errors.js';
import type {StoreLocation} from '../store/location.js';
import type {S3Location} from '../store/s3/location.js';
import {storeDefs} from './defs/store.js';
import type {Reader} from './reader.js';
import type {ConfigSources} from './sources.js';

/** Where a command's mirror is: a directory, or an S3 location. */
export type StoreChoice = {readonly location: StoreLocation};

/** The proxy settings of the environment (upper or lower case names, as curl reads them). */
export function proxyEnv(env: ConfigSources['env']): NonNullable<S3Location['proxy']> {
	return {
		https: env.HTTPS_PROXY ?? env.https_proxy,
		http: env.HTTP_PROXY ?? env.http_proxy,
		noProxy: env.NO_PROXY ?? env.no_proxy,
	};
}

/** `{proxy}` for an S3 location when a proxy is set; nothing otherwise. */
export function proxyOf(env: ConfigSources['env']): {proxy?: S3Location['proxy']} {
	const proxy = proxyEnv(env);
	return proxy.https || proxy.http ? {proxy} : {};
}

/** The mirror's location from --dir, --store and, for a bucket, the S3 options and AWS_* credentials. */
export function readStore(reader: Reader): StoreChoice {
	const {read} = reader;
	const dir = read(storeDefs.dir);
	const target = read(storeDefs.store);
	if (!target) {
		return {location: {kind: 'dir', dir}};
	}

	if (target.kind === 'dir') {
		return {location: target};
	}

	const env = reader.sources.env;
	const accessKeyId = env.AWS_ACCESS_KEY_ID;
	const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
	if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
		throw new UsageError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither');
	}

	return {
		location: {
			kind: 's3',
			s3: {
				bucket: target.bucket,
				prefix: target.prefix,
				endpoint: read(storeDefs.s3Endpoint),
				region: read(storeDefs.s3Region),
				pathStyle: read(storeDefs.s3PathStyle),
				credentials:
					accessKeyId && secretAccessKey
						? {accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined}
						: undefined,
				...proxyOf(env),
			},
		},
	};
}
