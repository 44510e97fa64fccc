/**
Which proxy a request goes through, by HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl
and Go read them (Elastic Agent is a Go program: one NO_PROXY should mean the same to
both). The values arrive through config; this module never reads the environment.
*/
import {BlockList, isIP} from 'node:net';

/** Proxy settings as the environment gives them. */
export type ProxyConfig = {
	readonly http?: string | undefined;
	readonly https?: string | undefined;
	/** Comma or space separated entries; see noProxyMatches. */
	readonly noProxy?: string | undefined;
};

function defaultPort(protocol: string): number {
	return protocol === 'https:' ? 443 : 80;
}

/** One NO_PROXY entry split into what it names and the port it is limited to. */
function parseEntry(entry: string): {host: string; port: number | undefined} {
	// `[v6]:port` or `[v6]`; `host:port`; a bare IPv6 address (several colons) or host.
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
	if (bracketed) {
		return {host: bracketed[1] ?? '', port: bracketed[2] ? Number(bracketed[2]) : undefined};
	}

	const withPort = /^([^:]+):(\d+)$/.exec(entry);
	if (withPort) {
		return {host: withPort[1] ?? '', port: Number(withPort[2])};
	}

	return {host: entry, port: undefined};
}

/** Whether the IP address `ip` lies in the CIDR block `cidr` (`10.0.0.0/8`, `fd00::/8`). */
function inBlock(ip: string, cidr: string): boolean {
	const [network = '', bits = ''] = cidr.split('/');
	const family = isIP(network);
	const prefix = Number(bits);
	if (family === 0 || family !== isIP(ip) || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
		return false;
	}

	const block = new BlockList();
	block.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
	return block.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
Whether NO_PROXY exempts `url` from the proxy. Entries, separated by commas or
spaces, case-insensitive:
- `*` alone: no request uses the proxy;
- `elastic.co`: that host and every subdomain (`artifacts.elastic.co`), as curl and Go;
- `.elastic.co` or `*.elastic.co`: the same (curl's reading; Go leaves out the bare domain);
- an IP address, or a CIDR block (`10.0.0.0/8`, `fd00::/8`) for hosts given as addresses;
- any of these with `:port` (`[v6]:port` for IPv6): only requests to that port.
Names are compared as written: nothing is resolved.
*/
export function noProxyMatches(url: URL, noProxy: string): boolean {
	const hostname = url.hostname
		.replace(/^\[|\]$/g, '')
		.toLowerCase()
		.replace(/\.$/, '');
	const port = url.port ? Number(url.port) : defaultPort(url.protocol);
	for (const rawEntry of noProxy.split(/[\s,]+/)) {
		const entry = rawEntry.trim().toLowerCase();
		if (entry === '') {
			continue;
		}

		if (entry === '*') {
			return true;
		}

		const parsed = parseEntry(entry);
		if (parsed.port !== undefined && parsed.port !== port) {
			continue;
		}

		if (parsed.host.includes('/')) {
			if (inBlock(hostname, parsed.host)) {
				return true;
			}

			continue;
		}

		const domain = parsed.host.replace(/^\*?\.+/, '').replace(/\.$/, '');
		if (domain === '') {
			continue;
		}

		// Addresses match whole, never by suffix (`2.3` is not a domain of 10.1.2.3).
		if (
			hostname === domain ||
			(isIP(hostname) === 0 && isIP(domain) === 0 && hostname.endsWith(`.${domain}`))
		) {
			return true;
		}
	}

	return false;
}

/** The proxy URL for `url`, or undefined to connect directly. */
export function proxyFor(url: string | URL, config: ProxyConfig): string | undefined {
	const target = typeof url === 'string' ? new URL(url) : url;
	const proxy = target.protocol === 'https:' ? config.https : config.http;
	if (!proxy) {
		return undefined;
	}

	if (config.noProxy && noProxyMatches(target, config.noProxy)) {
		return undefined;
	}

	return proxy.includes('://') ? proxy : `http://${proxy}`;
}
