/**
The HTTP side of `push-images`: one small got instance for the destination
registry, configured as the upstream client is (the extra CA of `--ca-file`, the
proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, the user agent, the timeouts), but
able to send what a push sends: HEAD, POST, and PUT with a body streamed from the
store. It never retries on its own; the caller retries whole steps (an upload
starts over with a new session), since a half-sent PUT cannot be resumed.
*/
import type {IncomingHttpHeaders} from 'node:http';
import type {Readable} from 'node:stream';
import {createConnection} from '../upstream/connection.js';
import {toUpstreamError} from '../upstream/errors.js';
import type {HttpConfig} from '../upstream/types.js';

/** A registry's answer: status, headers, and the (small) body. */
export type PushResponse = {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	readonly body: Buffer;
};

/** What one request sends. */
export type PushRequest = {
	readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT';
	readonly headers?: Readonly<Record<string, string>> | undefined;
	/** A manifest's bytes, or a blob streamed from the store (with its Content-Length in `headers`). */
	readonly body?: Buffer | Readable | undefined;
};

/** The destination's HTTP client; close when done. */
export type PushHttp = {
	/** Send one request; every status is answered, network failures throw UpstreamError. */
	send(url: string, request: PushRequest): Promise<PushResponse>;
	/** Requests sent so far, by method (for the dry-run check and the summary). */
	readonly counts: Record<PushRequest['method'], number>;
	close(): void;
};

/** A client for the destination registry, as `config` says to reach it. */
export function createPushHttp(config: HttpConfig): PushHttp {
	const connection = createConnection(config);
	const counts = {GET: 0, HEAD: 0, POST: 0, PUT: 0};
	const client = connection.got;

	return {
		counts,
		async send(url, request) {
			counts[request.method]++;
			try {
				const response = await client(url, {
					method: request.method,
					headers: {...request.headers},
					...(request.body === undefined ? {} : {body: request.body}),
					agent: connection.agentsFor(url),
					// A token endpoint or a blob check may redirect; an upload or a manifest PUT must not move.
					followRedirect: request.method === 'GET' || request.method === 'HEAD',
					maxRedirects: 10,
					responseType: 'buffer',
				});
				return {status: response.statusCode, headers: response.headers, body: response.body};
			} catch (error) {
				throw toUpstreamError(url, error);
			}
		},
		close() {
			connection.close();
		},
	};
}
