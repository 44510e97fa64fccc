/**
A stand-in for artifacts.elastic.co and artifacts-api.elastic.co on loopback: generated
artifacts with real sha512 sidecars and real detached signatures, the signing keys
at the root, a versions API, byte ranges with If-Range, and faults on demand.
*/
import {createHash, randomBytes} from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import {type ArtifactRef, defaultPlatformIds, wantedArtifacts} from '../../src/agent/catalog.js';
import type {TestKey} from './keys.js';

/** Misbehaviour for one path. Counters are consumed as requests arrive. */
export type Fault = {
	/** Statuses answered (with a short body) before the file is served normally. */
	statuses?: number[];
	/** Send this many body bytes, then cut the connection... */
	cutAfterBytes?: number;
	/** ...this many times (default 1). */
	cuts?: number;
	/** Answer 200 with the whole file even when asked for a range. */
	ignoreRange?: boolean;
	/** Send the body this slowly. */
	bytesPerSecond?: number;
	/** Send a few bytes and then nothing, this many times. */
	stalls?: number;
};

/** One request as the upstream saw it. */
export type RequestRecord = {
	readonly method: string;
	readonly path: string;
	readonly range: string | undefined;
	readonly ifRange: string | undefined;
	readonly status: number;
};

export type FakeUpstreamOptions = {
	readonly key: TestKey;
	/** Versions whose files exist. */
	readonly versions: readonly string[];
	/** Versions the API lists (default: `versions`). */
	readonly apiVersions?: readonly string[];
	readonly products?: readonly string[];
	readonly platforms?: readonly string[];
	readonly fips?: boolean;
	/** Size of each generated artifact (default 20 KiB). */
	readonly size?: number;
	/** Paths (relative, `downloads/...`) that are not published. */
	readonly omit?: readonly string[];
	/** Serve HTTPS with this certificate. */
	readonly tls?: {cert: string; key: string};
	/** Key served at /GPG-KEY-elasticsearch and /GPG-KEY-elastic-agent (default: `key`'s). */
	readonly rootKey?: string;
	/** Port to listen on (default: a free one). */
	readonly port?: number;
};

export type FakeUpstream = {
	readonly url: string;
	/** Everything served, by path without the leading `/`; tests may tamper with it. */
	readonly files: Map<string, Buffer>;
	readonly refs: readonly ArtifactRef[];
	readonly requests: RequestRecord[];
	readonly faults: Map<string, Fault>;
	/** (Re)publish `path` with fresh content, a matching sidecar and signature by `key`. */
	publish(path: string, content: Buffer, key?: TestKey): Promise<void>;
	/** Requests for artifact bodies (GETs of non-sidecar files under downloads/). */
	bodyRequests(): RequestRecord[];
	close(): Promise<void>;
};

const lastModified = new Date('2026-01-15T10:00:00Z').toUTCString();

function etagOf(body: Buffer): string {
	return `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"`;
}

/** The `.sha512` text upstream writes: sha512sum's format. */
export function sha512Line(content: Buffer, fileName: string): string {
	return `${createHash('sha512').update(content).digest('hex')}  ${fileName}\n`;
}

async function sendSlowly(
	response: http.ServerResponse,
	body: Buffer,
	bytesPerSecond: number,
): Promise<void> {
	const chunk = Math.max(1, Math.floor(bytesPerSecond / 20));
	for (let offset = 0; offset < body.length; offset += chunk) {
		if (response.destroyed) {
			return;
		}

		response.write(body.subarray(offset, offset + chunk));
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}

	response.end();
}

/** Start a fake upstream on a free loopback port. */
export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
	const files = new Map<string, Buffer>();
	const faults = new Map<string, Fault>();
	const requests: RequestRecord[] = [];
	const omit = new Set(options.omit ?? []);
	const refs = wantedArtifacts({
		products: options.products ?? ['elastic-agent'],
		versions: options.versions,
		platforms: options.platforms ?? defaultPlatformIds,
		fips: options.fips ?? false,
	}).filter((ref) => !omit.has(ref.path));

	async function publish(path: string, content: Buffer, key = options.key): Promise<void> {
		const fileName = path.slice(path.lastIndexOf('/') + 1);
		files.set(path, content);
		files.set(`${path}.sha512`, Buffer.from(sha512Line(content, fileName)));
		files.set(`${path}.asc`, Buffer.from(await key.sign(content)));
	}

	await Promise.all(refs.map((ref) => publish(ref.path, randomBytes(options.size ?? 20 * 1024))));
	const rootKey = Buffer.from(options.rootKey ?? options.key.armoredPublic);
	files.set('GPG-KEY-elasticsearch', rootKey);
	files.set('GPG-KEY-elastic-agent', rootKey);

	const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
		const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
		const record = (status: number) => {
			requests.push({
				method: request.method ?? 'GET',
				path,
				range: request.headers.range,
				ifRange: request.headers['if-range'] as string | undefined,
				status,
			});
		};

		const fault = faults.get(path);
		const status = fault?.statuses?.shift();
		if (status !== undefined) {
			record(status);
			response.statusCode = status;
			response.end(`fault ${status}\n`);
			return;
		}

		if (path === 'v1/versions') {
			record(200);
			const versions = options.apiVersions ?? options.versions;
			response.setHeader('content-type', 'application/json');
			response.end(JSON.stringify({versions, aliases: []}));
			return;
		}

		const body = files.get(path);
		if (!body) {
			record(404);
			response.statusCode = 404;
			response.end('<html><body>404 Not Found</body></html>');
			return;
		}

		const etag = etagOf(body);
		let start = 0;
		const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
		const ifRange = request.headers['if-range'];
		const rangeApplies =
			range && !fault?.ignoreRange && (!ifRange || ifRange === etag || ifRange === lastModified);
		if (range && rangeApplies) {
			start = Number(range[1]);
			if (start >= body.length) {
				record(416);
				response.statusCode = 416;
				response.setHeader('content-range', `bytes */${body.length}`);
				response.end();
				return;
			}

			response.statusCode = 206;
			response.setHeader('content-range', `bytes ${start}-${body.length - 1}/${body.length}`);
		}

		record(response.statusCode);
		const slice = body.subarray(start);
		response.setHeader('content-length', slice.length);
		response.setHeader('etag', etag);
		response.setHeader('last-modified', lastModified);
		response.setHeader('accept-ranges', 'bytes');
		if (request.method === 'HEAD') {
			response.end();
			return;
		}

		if (fault?.cutAfterBytes !== undefined && (fault.cuts ?? 1) > 0) {
			fault.cuts = (fault.cuts ?? 1) - 1;
			response.write(slice.subarray(0, fault.cutAfterBytes), () => {
				setTimeout(() => response.socket?.destroy(), 20);
			});
			return;
		}

		if (fault?.stalls) {
			fault.stalls--;
			response.write(slice.subarray(0, 16));
			return;
		}

		if (fault?.bytesPerSecond) {
			void sendSlowly(response, slice, fault.bytesPerSecond);
			return;
		}

		response.end(slice);
	};

	const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
	await new Promise<void>((resolve) => {
		server.listen(options.port ?? 0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;

	return {
		url: `${options.tls ? 'https' : 'http'}://${options.tls ? 'localhost' : '127.0.0.1'}:${port}`,
		files,
		refs,
		requests,
		faults,
		publish,
		bodyRequests() {
			return requests.filter(
				(entry) =>
					entry.method === 'GET' &&
					entry.path.startsWith('downloads/') &&
					!entry.path.endsWith('.sha512') &&
					!entry.path.endsWith('.asc'),
			);
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
			});
		},
	};
}
