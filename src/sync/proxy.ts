/**
Which proxy a request goes through, by the curl conventions of HTTPS_PROXY,
HTTP_PROXY and NO_PROXY. The values arrive through config; this module never reads
the environment itself.
*/

/** Proxy settings as the environment gives them. */
export type ProxyConfig = {
	readonly http?: string | undefined;
	readonly https?: string | undefined;
	/** Comma or space separated hosts, `.domain` suffixes, `host:port`, or `*`. */
	readonly noProxy?: string | undefined;
};

function defaultPort(protocol: string): string {
	return protocol === 'https:' ? '443' : '80';
}

function bypasses(url: URL, noProxy: string): boolean {
	const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
	const port = url.port || defaultPort(url.protocol);
	for (const rawEntry of noProxy.split(/[\s,]+/)) {
		const entry = rawEntry.trim().toLowerCase();
		if (entry === '') {
			continue;
		}

		if (entry === '*') {
			return true;
		}

		// `[v6]:port`, `host:port`, or a bare host (a bare IPv6 address has several colons).
		let entryHost = entry;
		let entryPort: string | undefined;
		const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
		if (bracketed) {
			entryHost = bracketed[1] ?? '';
			entryPort = bracketed[2];
		} else if (entry.split(':').length === 2) {
			[entryHost = '', entryPort] = entry.split(':');
		}

		entryHost = entryHost.replace(/^\*?\./, '.');
		if (entryPort && entryPort !== port) {
			continue;
		}

		if (
			entryHost.startsWith('.')
				? hostname.endsWith(entryHost) || hostname === entryHost.slice(1)
				: hostname === entryHost
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

	if (config.noProxy && bypasses(target, config.noProxy)) {
		return undefined;
	}

	return proxy.includes('://') ? proxy : `http://${proxy}`;
}
