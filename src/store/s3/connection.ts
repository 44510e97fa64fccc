/**
The SDK client for one bucket and prefix, set up for S3-compatible stores (Ceph RGW,
MinIO) as well as AWS, through the proxy the environment names.
*/
import {Agent as HttpAgent} from 'node:http';
import {Agent} from 'node:https';
import {S3Client} from '@aws-sdk/client-s3';
import {HttpProxyAgent, HttpsProxyAgent} from 'hpagent';
import {proxyFor} from '../../upstream/proxy.js';
import type {S3Location} from './location.js';

/** A client and the location it serves; what every object operation is given. */
export type Connection = {
	readonly location: S3Location;
	readonly client: S3Client;
	/** The full key of `relative` in the bucket. */
	readonly key: (relative: string) => string;
};

/** The URL the store's requests go to, as NO_PROXY is matched against it. */
function storeUrl(location: S3Location): URL {
	if (!location.endpoint) {
		return new URL(`https://${location.bucket}.s3.${location.region}.amazonaws.com/`);
	}

	const url = new URL(location.endpoint);
	if (!location.pathStyle) {
		url.hostname = `${location.bucket}.${url.hostname}`;
	}

	return url;
}

/** Agents for the SDK: through the proxy when one applies (the SDK reads no proxy variable itself). */
function agentsFor(location: S3Location, options: {keepAlive: boolean; maxSockets: number}) {
	const proxy = location.proxy ? proxyFor(storeUrl(location), location.proxy) : undefined;
	if (proxy) {
		return {
			httpAgent: new HttpProxyAgent({...options, proxy}),
			httpsAgent: new HttpsProxyAgent({...options, proxy}),
		};
	}

	return {httpAgent: new HttpAgent(options), httpsAgent: new Agent(options)};
}

/** A client for `location`; nothing is sent until it is used. */
export function connect(location: S3Location): Connection {
	// Many agents download at once through one server: the SDK's default of 50
	// sockets would queue them.
	const agentOptions = {keepAlive: true, maxSockets: 1024};
	const client = new S3Client({
		region: location.region,
		endpoint: location.endpoint,
		forcePathStyle: location.pathStyle,
		credentials: location.credentials,
		// Ceph RGW rejects the SDK's default streamed checksums with 411; checksums
		// here come from the mirror's own sha512 and signature checks anyway.
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
		maxAttempts: 3,
		requestHandler: {
			connectionTimeout: 5000,
			requestTimeout: 60_000,
			...agentsFor(location, agentOptions),
		},
	});
	return {location, client, key: (relative) => `${location.prefix}${relative}`};
}
