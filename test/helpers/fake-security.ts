/**
A stand-in for artifacts.security.elastic.co on loopback: per-version manifest zips at
`/downloads/endpoint/manifest/artifacts-<version>.zip` and zlib-compressed artifacts at the
`relative_url` each manifest names, served as a static object store does (strong quoted-hex ETag
with no `-`, Last-Modified, 304 on If-None-Match, exact Content-Length, HEAD, 404 for anything
else). Independent of src/ so it checks the mirror instead of agreeing with it.
docs/defend-artifacts.md has what is known about the real host and what is assumed.
*/
import {createHash} from 'node:crypto';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';
import {buildDefendVersion, type FakeDefendVersion} from './fake-security-build.js';

export {
	artifactPath,
	type FakeArtifactSpec,
	type FakeDefendVersion,
	type FakeManifest,
	type FakeManifestEntry,
	fakeManifestSigningKey,
	manifestZipPath,
} from './fake-security-build.js';
export {standardDefendVersions} from './fake-security-standard.js';

/** One request as the fake saw it. */
export type FakeSecurityRequest = {method: string; path: string; status: number; ifNoneMatch?: string};

/** A running fake security artifacts host. */
export type FakeSecurityHost = {
	/** http://127.0.0.1:port, no trailing slash. */
	url: string;
	requests: FakeSecurityRequest[];
	/** The served bytes of a tree path ('downloads/endpoint/manifest/artifacts-9.1.0.zip', 'downloads/endpoint/artifacts/...'), or undefined. */
	file(relative: string): Buffer | undefined;
	/** Paths (tree-relative) of every file served for a version: its manifest zip and each artifact it names. */
	filesOf(version: string): string[];
	/** Publish a new manifest for `version` (new manifest_version, new or changed artifacts; old artifact files stay served, as upstream keeps them). */
	publish(version: FakeDefendVersion): Promise<void>;
	/** For `relative`: answer these statuses, one per request, then serve normally; wait `delayMs` before every answer. */
	fault(relative: string, fault: {statuses?: number[]; delayMs?: number}): void;
	close(): Promise<void>;
};

type Served = {body: Buffer; etag: string; modified: Date};

/** Tree paths are kept without the leading slash; callers may give either form. */
const treePath = (relative: string) => relative.replace(/^\/+/, '');

/** S3-style ETag of a single-part object: the quoted MD5 hex, which never holds a `-`. */
const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

/** Whole seconds: HTTP dates carry no milliseconds, so If-Modified-Since compares cleanly. */
const nowSeconds = () => new Date(Math.floor(Date.now() / 1000) * 1000);

/** Whether an If-None-Match list names `etag` (weak comparison, as RFC 9110 asks for GET). */
function matches(ifNoneMatch: string, etag: string): boolean {
	const bare = (tag: string) => tag.trim().replace(/^W\//, '');
	return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/** Not confirmed against the real host (docs/defend-artifacts.md): an S3-shaped 404. */
const notFoundBody =
	'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

/** Start a fake security host publishing `versions`. */
export async function startFakeSecurityHost(options: {
	versions: readonly FakeDefendVersion[];
	port?: number;
}): Promise<FakeSecurityHost> {
	const files = new Map<string, Served>();
	const versions = new Map<string, string[]>();
	const faults = new Map<string, {statuses: number[]; delayMs: number}>();

	const put = (path: string, body: Buffer) => {
		const held = files.get(path);
		if (!held?.body.equals(body)) {
			files.set(path, {body, etag: etagOf(body), modified: nowSeconds()});
		}
	};
	// Artifacts before the manifest naming them, as a careful publisher would.
	const publish = async (spec: FakeDefendVersion) => {
		const built = await buildDefendVersion(spec);
		for (const [path, body] of built.artifacts) {
			put(path, body);
		}
		put(built.zipPath, built.zip);
		versions.set(spec.version, [built.zipPath, ...built.artifacts.keys()]);
	};
	for (const version of options.versions) {
		await publish(version);
	}

	const server = http.createServer();
	const host: FakeSecurityHost = {
		url: '',
		requests: [],
		file: (relative) => files.get(treePath(relative))?.body,
		filesOf: (version) => [...(versions.get(version) ?? [])],
		publish,
		fault(relative, fault) {
			faults.set(treePath(relative), {statuses: [...(fault.statuses ?? [])], delayMs: fault.delayMs ?? 0});
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			}),
	};

	const answer = async (req: http.IncomingMessage, res: http.ServerResponse) => {
		const raw = req.url ?? '/';
		const cut = raw.indexOf('?');
		const path = cut < 0 ? raw : raw.slice(0, cut);
		const ifNoneMatch = req.headers['if-none-match'];
		res.on('finish', () =>
			host.requests.push({
				method: req.method ?? 'GET',
				path,
				status: res.statusCode,
				...(ifNoneMatch === undefined ? {} : {ifNoneMatch}),
			}),
		);
		const fault = faults.get(treePath(path));
		if (fault && fault.delayMs > 0) {
			await sleep(fault.delayMs);
		}
		const status = fault?.statuses.shift();
		if (status !== undefined) {
			const body = Buffer.from(`fault ${status}\n`);
			res.writeHead(status, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length});
			res.end(req.method === 'HEAD' ? undefined : body);
			return;
		}
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.writeHead(405, {Allow: 'GET, HEAD', 'Content-Length': 0});
			res.end();
			return;
		}
		const served = files.get(treePath(path));
		if (!served) {
			const body = Buffer.from(notFoundBody);
			res.writeHead(404, {'Content-Type': 'application/xml', 'Content-Length': body.length});
			res.end(req.method === 'HEAD' ? undefined : body);
			return;
		}
		const validators = {ETag: served.etag, 'Last-Modified': served.modified.toUTCString()};
		const since = Date.parse(req.headers['if-modified-since'] ?? '');
		const fresh =
			ifNoneMatch !== undefined
				? matches(ifNoneMatch, served.etag)
				: !Number.isNaN(since) && served.modified.getTime() <= since;
		if (fresh) {
			res.writeHead(304, validators);
			res.end();
			return;
		}
		res.writeHead(200, {
			...validators,
			'Content-Type': path.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
			'Content-Length': served.body.length,
		});
		res.end(req.method === 'HEAD' ? undefined : served.body);
	};
	server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
		answer(req, res).catch((error: unknown) => res.destroy(error as Error));
	});
	await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
	host.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return host;
}
