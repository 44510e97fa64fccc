/**
A stand-in for epr.elastic.co (Elastic's package-registry) on loopback, built from its source
(`main.go` routes with gorilla/mux StrictSlash, `handler.go` headers and errors, `search.go`,
`categories.go`, `package_index.go`, `static.go`, `artifacts.go`, `signatures.go`,
`packages/http.go`), serving generated signed package zips. docs/package-registry.md has the facts.
Over 300 lines because the route table, Go's error and file-serving behaviour and the server
lifecycle are one contract other tests build on; the pure logic lives in fake-registry-*.ts.
*/
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import semver from 'semver';
import {
	buildFakePackage,
	type FakePackage,
	type FakePackageSpec,
	fakeModified,
	goJson,
} from './fake-registry-build.js';
import {applyFilter, categoryCounts, goQuery, parseFilter, searchEntries} from './fake-registry-query.js';
import type {TestKey} from './keys.js';

export {goJson} from './fake-registry-build.js';
export {standardPackages} from './fake-registry-standard.js';
export type {FakePackage, FakePackageSpec};

/** One request as the fake saw it. */
export type FakeRegistryRequest = {method: string; path: string; query: string; status: number};

/** A running fake registry. */
export type FakeRegistry = {
	/** http://127.0.0.1:port (no trailing slash). */
	url: string;
	packages: FakePackage[];
	requests: FakeRegistryRequest[];
	/** Publish a new version while running (replaces the same name@version). */
	add(spec: FakePackageSpec): Promise<FakePackage>;
	remove(name: string, version: string): void;
	/** Answer these statuses for `path` (exact, without query), one per request, then serve normally. */
	fault(path: string, fault: {statuses?: number[]}): void;
	close(): Promise<void>;
};

/** What `/` and `/index.json` answer (package-registry `index.go`). */
export const fakeRegistryIndex = {'service.name': 'package-registry', 'service.version': '1.40.1'};

/** Cache times of the registry's Docker image (`config.docker.yml`), in seconds. */
const cacheTime = {index: 10, search: 600, categories: 600, catchAll: 600};

type Reply = {status: number; headers: Record<string, string | string[]>; body: Buffer | string};

const cors = {'Access-Control-Allow-Origin': '*'};
const cached = (seconds: number) => ({'Cache-Control': [`max-age=${seconds}`, 'public']});
const noCache = {'Cache-Control': ['max-age=0', 'private, no-store']};

/** `http.Error`: text/plain, the message and a newline, on top of the headers already set. */
function textError(status: number, message: string, headers: Record<string, string | string[]>): Reply {
	return {
		status,
		headers: {...headers, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff'},
		body: `${message}\n`,
	};
}

/** `notFoundError` / `badRequest`: `noCacheHeaders`, then `http.Error`. */
function goError(status: number, message: string, extra: Record<string, string | string[]> = {}): Reply {
	return textError(status, message, {...extra, ...noCache});
}

function json(seconds: number, body: string): Reply {
	return {status: 200, headers: {...cors, ...cached(seconds), 'Content-Type': 'application/json'}, body};
}

/** Content types as Go's `mime` package gives them in the registry image (mailcap + `mime_types.go`). */
function contentType(name: string, body: Buffer): string {
	const byExtension: Record<string, string> = {
		'.zip': 'application/zip',
		'.sig': 'application/pgp-signature',
		'.md': 'text/markdown; charset=utf-8',
		'.yml': 'text/yaml; charset=UTF-8',
		'.svg': 'image/svg+xml',
		'.json': 'application/json',
		'.png': 'image/png',
		'.jpg': 'image/jpeg',
		'.jpeg': 'image/jpeg',
		'.ico': 'image/x-icon',
	};
	const known = byExtension[path.posix.extname(name).toLowerCase()];
	if (known) {
		return known;
	}
	return body
		.subarray(0, 512)
		.every((byte) => byte >= 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d)
		? 'text/plain; charset=utf-8'
		: 'application/octet-stream';
}

/** `http.ServeFile` / `http.ServeContent`: Last-Modified, If-Modified-Since, one byte range, If-Range. */
function serveContent(req: http.IncomingMessage, name: string, body: Buffer): Reply {
	const modified = fakeModified.toUTCString();
	const headers = {
		...cors,
		...cached(cacheTime.catchAll),
		'Last-Modified': modified,
		'Accept-Ranges': 'bytes',
	};
	const since = Date.parse(req.headers['if-modified-since'] ?? '');
	if (!Number.isNaN(since) && fakeModified.getTime() <= since) {
		return {status: 304, headers, body: ''};
	}
	const type = {'Content-Type': contentType(name, body)};
	const range = req.headers.range;
	const ifRange = req.headers['if-range'];
	const single = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
	if (!range || (ifRange !== undefined && ifRange !== modified) || !single) {
		return {status: 200, headers: {...headers, ...type}, body};
	}
	const [, from = '', to = ''] = single;
	const start = from === '' ? Math.max(0, body.length - Number(to)) : Number(from);
	const end = from === '' || to === '' ? body.length - 1 : Math.min(Number(to), body.length - 1);
	if (
		(from === '' && to === '') ||
		start >= body.length ||
		start > end ||
		(from === '' && Number(to) === 0)
	) {
		// Since Go 1.23 ServeContent drops Cache-Control and Last-Modified from its error answers.
		return textError(416, 'invalid range: failed to overlap', {
			...cors,
			'Content-Range': `bytes */${body.length}`,
		});
	}
	return {
		status: 206,
		headers: {...headers, ...type, 'Content-Range': `bytes ${start}-${end}/${body.length}`},
		body: body.subarray(start, end + 1),
	};
}

/** gorilla/mux `cleanPath`. */
function cleanPath(p: string): string {
	let clean = path.posix.normalize(p.startsWith('/') ? p : `/${p}`);
	if (clean.length > 1 && clean.endsWith('/')) {
		clean = clean.slice(0, -1);
	}
	return p.endsWith('/') && clean !== '/' ? `${clean}/` : clean;
}

type Route = {
	/** The route's regexp with mux's StrictSlash `[/]?` at the end. */
	pattern: RegExp;
	/** Whether the route's template ends with `/`. */
	slash: boolean;
	handle(match: RegExpExecArray, req: http.IncomingMessage, query: string): Reply;
};

function routes(registry: FakeRegistry): Route[] {
	const find = (name: string, version: string) =>
		registry.packages.find((p) => p.spec.name === name && p.spec.version === version);
	const strictVersion = (version: string) => semver.valid(version) === version;
	const download =
		(notFound: string, body: (p: FakePackage) => Buffer, suffix: string) =>
		(m: RegExpExecArray, req: http.IncomingMessage) => {
			const [, name = '', version = ''] = m;
			if (!strictVersion(version)) {
				return goError(400, 'invalid package version', cors);
			}
			const found = find(name, version);
			return found
				? serveContent(req, `${name}-${version}${suffix}`, body(found))
				: goError(404, notFound, cors);
		};
	const index = () => json(cacheTime.index, goJson(fakeRegistryIndex));
	return [
		{pattern: /^\/?$/, slash: true, handle: index},
		{pattern: /^\/index\.json\/?$/, slash: false, handle: index},
		{
			pattern: /^\/search\/?$/,
			slash: false,
			handle: (_m, _req, query) => {
				try {
					const found = applyFilter(parseFilter(goQuery(query), 'search'), registry.packages);
					return json(cacheTime.search, found.length === 0 ? '[]' : goJson(searchEntries(found)));
				} catch (error) {
					return goError(400, (error as Error).message, cors);
				}
			},
		},
		{
			pattern: /^\/categories\/?$/,
			slash: false,
			handle: (_m, _req, query) => {
				try {
					const values = goQuery(query);
					const found = applyFilter(parseFilter(values, 'categories'), registry.packages);
					const include = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(
						values.get('include_policy_templates')?.[0] ?? '',
					);
					return json(cacheTime.categories, goJson(categoryCounts(found, include)));
				} catch (error) {
					return goError(400, (error as Error).message, cors);
				}
			},
		},
		{pattern: /^\/health\/?$/, slash: false, handle: () => ({status: 200, headers: cors, body: ''})},
		{
			pattern: /^\/epr\/[^/]+\/([a-z0-9_]+)-([^/]+)\.zip\/?$/,
			slash: false,
			handle: download('artifact not found', (p) => p.zip, '.zip'),
		},
		{
			pattern: /^\/epr\/[^/]+\/([a-z0-9_]+)-([^/]+)\.zip\.sig\/?$/,
			slash: false,
			handle: download('signature file not found', (p) => Buffer.from(p.signature), '.zip.sig'),
		},
		{
			pattern: /^\/package\/([a-z0-9_]+)\/([^/]+)\/?$/,
			slash: true,
			handle: ([, name = '', version = '']) => {
				if (!strictVersion(version)) {
					return goError(400, 'invalid package version', cors);
				}
				const found = find(name, version);
				return found
					? json(cacheTime.index, goJson(found.info))
					: goError(404, 'package revision not found', cors);
			},
		},
		{
			pattern: /^\/package\/([^/]+)\/([^/]+)\/(.*)\/?$/,
			slash: false,
			handle: ([, name = '', version = '', file = ''], req) => {
				if (!strictVersion(version)) {
					return goError(400, 'invalid package version', cors);
				}
				const found = find(name, version);
				if (!found) {
					return goError(404, 'package revision not found', cors);
				}
				const content = found.files.get(path.posix.normalize(file));
				// http.Error keeps the cache headers the handler set before looking for the file.
				return content
					? serveContent(req, file, content)
					: textError(404, 'resource not found', {...cors, ...cached(cacheTime.catchAll)});
			},
		},
	];
}

/** `http.Redirect` with 301: an HTML body for GET, none for other methods. */
function redirect(req: http.IncomingMessage, location: string): Reply {
	const entities: Record<string, string> = {
		'&': '&amp;',
		'<': '&lt;',
		'>': '&gt;',
		'"': '&#34;',
		"'": '&#39;',
	};
	const escaped = location.replace(/[&<>"']/g, (c) => entities[c] ?? c);
	const html: Record<string, string> =
		req.method === 'GET' || req.method === 'HEAD' ? {'Content-Type': 'text/html; charset=utf-8'} : {};
	return {
		status: 301,
		headers: {...cors, Location: location, ...html},
		body: req.method === 'GET' ? `<a href="${escaped}">Moved Permanently</a>.\n\n` : '',
	};
}

/** What the registry answers for one request. */
function answer(table: readonly Route[], req: http.IncomingMessage, rawPath: string, query: string): Reply {
	let decoded = rawPath;
	try {
		decoded = decodeURIComponent(rawPath);
	} catch {
		// Go keeps a path it cannot unescape as it came.
	}
	const clean = cleanPath(decoded);
	const withQuery = (p: string) => (query ? `${p}?${query}` : p);
	if (clean !== decoded) {
		return {status: 301, headers: {Location: withQuery(clean)}, body: ''};
	}
	for (const route of table) {
		const match = route.pattern.exec(decoded);
		if (!match) {
			continue;
		}
		// StrictSlash(true): the other form of the path is redirected to the route's own form.
		if (decoded.endsWith('/') !== route.slash) {
			return redirect(req, withQuery(route.slash ? `${decoded}/` : decoded.slice(0, -1)));
		}
		return route.handle(match, req, query);
	}
	return goError(404, '404 page not found');
}

/** Start a fake registry holding `packages`, signed with `key`. */
export async function startFakeRegistry(options: {
	key: TestKey;
	packages: readonly FakePackageSpec[];
	/** Port to listen on (default: any free one). */
	port?: number;
}): Promise<FakeRegistry> {
	const faults = new Map<string, number[]>();
	const built = await Promise.all(options.packages.map((spec) => buildFakePackage(spec, options.key)));
	const server = http.createServer();
	const registry: FakeRegistry = {
		url: '',
		packages: built,
		requests: [],
		async add(spec) {
			const made = await buildFakePackage(spec, options.key);
			registry.remove(spec.name, spec.version);
			registry.packages.push(made);
			return made;
		},
		remove(name, version) {
			const index = registry.packages.findIndex((p) => p.spec.name === name && p.spec.version === version);
			if (index >= 0) {
				registry.packages.splice(index, 1);
			}
		},
		fault(where, fault) {
			faults.set(where, [...(fault.statuses ?? [])]);
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			}),
	};
	const table = routes(registry);
	server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
		const raw = req.url ?? '/';
		const cut = raw.indexOf('?');
		const rawPath = cut < 0 ? raw : raw.slice(0, cut);
		const query = cut < 0 ? '' : raw.slice(cut + 1);
		res.on('finish', () =>
			registry.requests.push({method: req.method ?? 'GET', path: rawPath, query, status: res.statusCode}),
		);
		const status = faults.get(rawPath)?.shift();
		const reply: Reply =
			status === undefined
				? answer(table, req, rawPath, query)
				: {status, headers: {'Content-Type': 'text/plain; charset=utf-8'}, body: `fault ${status}\n`};
		const body = Buffer.from(reply.body);
		res.statusCode = reply.status;
		for (const [name, value] of Object.entries(reply.headers)) {
			res.setHeader(name, value);
		}
		if (reply.status !== 304) {
			res.setHeader('Content-Length', body.length);
		}
		res.end(req.method === 'HEAD' ? undefined : body);
	});
	await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
	registry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return registry;
}
