/**
How this process reaches any HTTP server it fetches from or pushes to: keep-alive
agents (direct, or per proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY), the extra CA of
`--ca-file` added to Node's roots, and one got instance with the timeouts, the user
agent and no decoding, retries or status errors of its own. The upstream client
(client.ts) and push-images' destination client share it.
*/
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import got, {type Agents, type Got} from 'got';
import {HttpProxyAgent, HttpsProxyAgent} from 'hpagent';
import {proxyFor} from './proxy.js';
import type {HttpConfig} from './types.js';

/** The agents and the got instance of one client; close when done. */
export type Connection = {
	readonly got: Got;
	/** The agents for a URL: direct, or through the proxy that covers it. */
	agentsFor(url: string | URL): Agents;
	/** Drop every pooled socket. */
	close(): void;
};

/** A connection as `config` says to reach servers. */
export function createConnection(config: HttpConfig): Connection {
	const ca = config.ca ? [...tls.rootCertificates, config.ca] : undefined;
	const agentOptions = {keepAlive: true, maxSockets: 32, ...(ca ? {ca} : {})};
	const direct = {http: new http.Agent(agentOptions), https: new https.Agent(agentOptions)} satisfies Agents;
	const proxied = new Map<string, typeof direct>();
	return {
		got: got.extend({
			timeout: {
				lookup: config.timeoutMs,
				connect: config.timeoutMs,
				secureConnect: config.timeoutMs,
				socket: config.timeoutMs,
				response: config.timeoutMs,
			},
			retry: {limit: 0},
			// Bytes must land as they are; never let HTTP decode them.
			decompress: false,
			throwHttpErrors: false,
			headers: {'user-agent': config.userAgent, 'accept-encoding': 'identity'},
			...(ca ? {https: {certificateAuthority: ca}} : {}),
		}),
		agentsFor(url) {
			const proxy = proxyFor(url, config.proxy);
			if (!proxy) {
				return direct;
			}

			let agents = proxied.get(proxy);
			if (!agents) {
				agents = {
					http: new HttpProxyAgent({...agentOptions, proxy}),
					https: new HttpsProxyAgent({...agentOptions, proxy}),
				};
				proxied.set(proxy, agents);
			}

			return agents;
		},
		close() {
			for (const agents of [direct, ...proxied.values()]) {
				agents.http.destroy();
				agents.https.destroy();
			}
		},
	};
}
