/**
`artifact-mirror healthcheck`: is the server beside this process alive? A
container's health check runs with the image's environment only, without the
flags `serve` was given, so `serve --url-file` leaves the URL it answers at, and
the check reads it; without that file it derives the URL from the same
config and environment `serve` reads.
*/
import {readFile, rename, rm, writeFile} from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import {loadServeConfig, type ServeConfig} from '../config/serve.js';
import type {ConfigSources} from '../config/sources.js';
import {describeError, UsageError} from '../errors.js';

/** Wildcard listen addresses are reached on loopback. */
function reachableHost(address: string): string {
	if (['', '0.0.0.0', '::', '::0'].includes(address)) {
		return '127.0.0.1';
	}

	return address.includes(':') ? `[${address}]` : address;
}

/** The URL a process on this host reaches a server listening at `address` on. */
export function localUrl(address: AddressInfo, tls: boolean): string {
	return `${tls ? 'https' : 'http'}://${reachableHost(address.address)}:${address.port}`;
}

/** Leave `url` in `file`, whole or not at all (a check never reads half a URL). */
export async function writeUrlFile(file: string, url: string): Promise<void> {
	const partial = `${file}.${process.pid}.partial`;
	await writeFile(partial, `${url}\n`, {mode: 0o644});
	await rename(partial, file);
}

/** Remove the URL file when the server stops, so a check does not ask a port now someone else's. */
export async function removeUrlFile(file: string): Promise<void> {
	await rm(file, {force: true});
}

/** Where the server is: its URL file when there is one, else serve's own config. */
export async function serverUrl(config: ServeConfig): Promise<string> {
	if (config.urlFile) {
		const text = await readFile(config.urlFile, 'utf8').catch(() => undefined);
		const url = text?.trim();
		if (url) {
			return url;
		}
	}

	if (config.port === 0) {
		throw new UsageError('healthcheck needs the port: serve with --url-file, or a fixed --port');
	}

	return `${config.tls ? 'https' : 'http'}://${reachableHost(config.host)}:${config.port}`;
}

/**
GET `<url>/healthz`. Resolves with one line and whether it answered 200. The
certificate is not verified: this asks our own process on this host whether it
is alive, and trusting it is the clients' business; a broken TLS pair still
fails, because the handshake must complete.
*/
export function checkHealth(url: string, timeoutMs: number): Promise<{ok: boolean; line: string}> {
	const target = `${url.replace(/\/+$/, '')}/healthz`;
	return new Promise((resolve) => {
		const client = target.startsWith('https:') ? https : http;
		const request = client.get(target, {rejectUnauthorized: false, timeout: timeoutMs}, (response) => {
			response.resume();
			const ok = response.statusCode === 200;
			resolve({ok, line: ok ? `ok ${target}` : `unhealthy: ${target} answered ${response.statusCode}`});
		});
		request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
		request.on('error', (error) => resolve({ok: false, line: `unhealthy: ${target}: ${error.message}`}));
	});
}

/** `healthcheck`: 0 when the server answers /healthz, else 1 with one line; never 2, which Docker reserves. */
export async function runHealthcheck(sources: ConfigSources): Promise<number> {
	let url: string;
	try {
		url = await serverUrl(loadServeConfig(sources));
	} catch (error) {
		process.stderr.write(`unhealthy: ${describeError(error)}\n`);
		return 1;
	}

	// Inside Docker's default 5 s, so that the line says why.
	const result = await checkHealth(url, 4000);
	(result.ok ? process.stdout : process.stderr).write(`${result.line}\n`);
	return result.ok ? 0 : 1;
}
