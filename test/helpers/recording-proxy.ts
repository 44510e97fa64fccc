/**
A reverse proxy in front of the test S3 server that records, in the order they
arrive, the writes (PUT, POST, DELETE) a store sends: what a reader of the bucket
would see change, one request at a time. Requests pass through untouched (the Host
header included, so their signatures hold); `Expect` is dropped, as the SDK leaves
it unsigned.
*/
import http from 'node:http';
import type {AddressInfo} from 'node:net';

/** A running proxy: point a store's endpoint at `url`. */
export type RecordingProxy = {
	readonly url: string;
	/** Start recording; `key` turns a request path into the name recorded (undefined: not recorded). */
	record(key: (path: string) => string | undefined): void;
	/** Stop recording; what was recorded since `record`. */
	stop(): string[];
	close(): Promise<void>;
};

const writeMethods = new Set(['PUT', 'POST', 'DELETE']);

/** Start a proxy on a free loopback port that forwards to `target` (an http URL). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
	const upstream = new URL(target);
	let keyOf: ((path: string) => string | undefined) | undefined;
	let recorded: string[] = [];
	const server = http.createServer((request, response) => {
		const name = keyOf && writeMethods.has(request.method ?? '') ? keyOf(request.url ?? '') : undefined;
		if (name !== undefined) {
			recorded.push(name);
		}

		const {expect: _unsigned, ...headers} = request.headers;
		const forwarded = http.request(
			{host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers},
			(reply) => {
				response.writeHead(reply.statusCode ?? 502, reply.headers);
				reply.pipe(response);
			},
		);
		forwarded.on('error', () => response.destroy());
		request.pipe(forwarded);
	});
	await new Promise<void>((resolve) => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		record(key) {
			keyOf = key;
			recorded = [];
		},
		stop() {
			keyOf = undefined;
			return recorded;
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
			});
		},
	};
}
