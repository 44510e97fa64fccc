/**
Where a command's mirror is (a directory, or an S3 location with its endpoint,
region, credentials and proxy), read from the store options every command shares.
*/
import path from 'node:path';
import {UsageError} from '../errors.js';
import type {StoreLocation} from '../store/location.js';
import {isS3Url, parseS3Url, type S3Location} from '../store/s3/location.js';
import {parseBoolean, parsePath, parseUrl} from './parse.js';
import type {ConfigSources, Reader} from './sources.js';

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

export function readStore(sources: ConfigSources, reader: Reader): StoreChoice {
	const {get, orDefault} = reader;
	const dir = orDefault('dir', parsePath, path.resolve(sources.cwd, 'artifacts'));
	const given = get('store');
	if (!given) {
		return {location: {kind: 'dir', dir}};
	}

	const text = String(given.raw).trim();
	if (!isS3Url(text)) {
		return {location: {kind: 'dir', dir: parsePath(text, given.origin)}};
	}

	const {bucket, prefix} = parseS3Url(text, given.origin.label);
	const env = sources.env;
	const accessKeyId = env.AWS_ACCESS_KEY_ID;
	const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
	if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
		throw new UsageError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither');
	}

	return {
		location: {
			kind: 's3',
			s3: {
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
		},
	};
}
