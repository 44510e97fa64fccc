/**
A raw HTTP client for tests: sends the path exactly as given (no normalizing of
`..` or percent-escapes, unlike fetch and URL) and never decompresses, so tests see
what a client on the wire sees.
*/
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export type RawResponse = {
	readonly status: number;
	readonly headers: http.IncomingHttpHeaders;
	readonly body: Buffer;
	readonly text: string;
};

export type RawRequest = {
	readonly method?: string;
	readonly headers?: Record<string, string>;
	/** Trust this CA (PEM) for https. */
	readonly ca?: string;
	readonly agent?: http.Agent | false;
};

/** Request `path` (raw) from the server at `base` (`http://127.0.0.1:port`). */
export function request(base: string, path: string, options: RawRequest = {}): Promise<RawResponse> {
	const url = new URL(base);
	const transport = url.protocol === 'https:' ? https : http;
	return new Promise((resolve, reject) => {
		const req = transport.request(
			{
				host: url.hostname,
				port: url.port,
				path,
				method: options.method ?? 'GET',
				headers: options.headers,
				ca: options.ca,
				agent: options.agent ?? false,
				servername: url.hostname === '127.0.0.1' ? undefined : url.hostname,
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
				res.on('error', reject);
				res.on('end', () => {
					const body = Buffer.concat(chunks);
					resolve({status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8')});
				});
			},
		);
		req.on('error', reject);
		req.end();
	});
}

/** A JSON GET. */
export async function getJson<T = Record<string, unknown>>(base: string, path: string): Promise<T> {
	const response = await request(base, path, {headers: {Accept: 'application/json'}});
	if (response.status !== 200) {
		throw new Error(`GET ${path}: ${response.status} ${response.text}`);
	}

	return JSON.parse(response.text) as T;
}

/** What a TCP connection to `port` on 127.0.0.1 meets: 'connected', or the error code (ECONNREFUSED once a server stopped listening). */
export function connectOutcome(port: number): Promise<string> {
	return new Promise<string>((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.on('connect', () => {
			socket.destroy();
			resolve('connected');
		});
		socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
	});
}
