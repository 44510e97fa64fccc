/**
A loopback proxy in front of a test registry that behaves like docker.elastic.co
towards a client: every `/v2/` request needs a bearer token, a request without
one is answered 401 with a `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
challenge and the distribution spec's error JSON, and `GET /token` hands out
tokens scoped to the repositories asked for (anonymously, or only with the Basic
credentials configured). Blob downloads can be redirected (307) to a second path
that serves the bytes without the token (on `localhost`, another host name, as
registries do with their storage, refusing a request that carries the token);
chosen blobs can be corrupted on the way (one byte flipped, same length) to show
that a client checks digests. Everything else passes through to the registry
untouched: bodies streamed, headers kept (Docker-Content-Digest, Content-Type),
repeated request headers (several `Accept` lines) sent as they came.

Over 300 lines because the token endpoint, the challenge, the storage redirect and
the corruption are one fake server's behaviour, sharing its token table and its
request log; split up, each part would need the others' state handed to it.
*/
import {randomBytes} from 'node:crypto';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {Transform} from 'node:stream';
import type {Teardown} from './teardown.js';

/** The `service` the challenge names and the token endpoint expects. */
export const tokenService = 'test-registry';

/** How the proxy behaves; `corrupt` stays live (add to it after starting). */
export type TokenProxyOptions = {
	/** When set, `GET /token` answers 401 unless these Basic credentials come with it. */
	readonly credentials?: {readonly username: string; readonly password: string};
	/** Answer blob GETs with 307 to `/storage/…` on this proxy, like a registry's storage redirect. */
	readonly redirectBlobs?: boolean;
	/** Blob digests whose bodies get one byte flipped on the way out. */
	readonly corrupt?: Set<string>;
	/** Grant `push` when a token request asks for it; docker.elastic.co grants pull only. */
	readonly allowPush?: boolean;
	/** Listen on this port (0 or absent: any free one). */
	readonly port?: number;
};

/** One request the proxy answered. */
export type ProxyRequest = {
	readonly method: string;
	/** Path and query as the client sent them. */
	readonly path: string;
	readonly status: number;
	/** Which kind of `Authorization` came with it. */
	readonly auth: 'bearer' | 'basic' | 'none';
};

/** A running proxy: point clients at `host` (image references) or `url` (HTTP). */
export type TokenProxy = {
	readonly url: string;
	readonly host: string;
	readonly port: number;
	/** Every request answered so far, in order. */
	readonly requests: ProxyRequest[];
	/** The live set of corrupted blob digests. */
	readonly corrupt: Set<string>;
	/** Stop listening and drop open connections; teardown calls it too. */
	close(): Promise<void>;
};

/** What one token allows: `pull`/`push` per repository, and the catalog. */
type Grant = {readonly repositories: Map<string, Set<string>>; readonly catalog: boolean};

/** What a `/v2/…` request needs from its token. */
type Need =
	| {readonly kind: 'base'}
	| {readonly kind: 'catalog'}
	| {
			readonly kind: 'repository';
			readonly name: string;
			readonly action: 'pull' | 'push';
			readonly rest: string;
	  };

const repositoryPath = /^\/v2\/(.+?)\/(manifests|blobs|tags)\/(.*)$/;

function needOf(method: string, pathname: string): Need {
	if (pathname === '/v2/_catalog') {
		return {kind: 'catalog'};
	}

	const match = repositoryPath.exec(pathname);
	if (!match) {
		return {kind: 'base'};
	}

	const action = method === 'GET' || method === 'HEAD' ? 'pull' : 'push';
	return {kind: 'repository', name: match[1] as string, action, rest: `${match[2]}/${match[3]}`};
}

function scopeOf(need: Need): string | undefined {
	if (need.kind === 'catalog') {
		return 'registry:catalog:*';
	}

	return need.kind === 'repository'
		? `repository:${need.name}:${need.action === 'pull' ? 'pull' : 'pull,push'}`
		: undefined;
}

function allows(grant: Grant, need: Need): boolean {
	if (need.kind === 'catalog') {
		return grant.catalog;
	}

	return need.kind === 'base' || (grant.repositories.get(need.name)?.has(need.action) ?? false);
}

/** The spec's error body. */
function errorJson(code: string, message: string, detail?: unknown): string {
	return JSON.stringify({errors: [{code, message, ...(detail === undefined ? {} : {detail})}]});
}

function sendError(
	response: http.ServerResponse,
	status: number,
	headers: Record<string, string>,
	body: string,
): void {
	response.writeHead(status, {
		'content-type': 'application/json',
		'docker-distribution-api-version': 'registry/2.0',
		...headers,
	});
	response.end(body);
}

/** Flip the first byte of a body; the length stays, so only a digest check notices. */
function flipFirstByte(): Transform {
	let done = false;
	return new Transform({
		transform(chunk: Buffer, _encoding, callback) {
			if (!done && chunk.length > 0) {
				const copy = Buffer.from(chunk);
				copy[0] = (copy[0] as number) ^ 0xff;
				done = true;
				callback(null, copy);
				return;
			}

			callback(null, chunk);
		},
	});
}

/** Request headers for the registry: repeated ones kept as lists, credentials and hop-by-hop ones dropped. */
function forwardedHeaders(request: http.IncomingMessage, upstream: URL): http.OutgoingHttpHeaders {
	const dropped = new Set(['authorization', 'host', 'connection', 'keep-alive']);
	const headers: Record<string, string[]> = {};
	const raw = request.rawHeaders;
	for (let index = 0; index + 1 < raw.length; index += 2) {
		const name = (raw[index] as string).toLowerCase();
		if (!dropped.has(name)) {
			headers[name] = [...(headers[name] ?? []), raw[index + 1] as string];
		}
	}

	return {...headers, host: upstream.host};
}

/** Stream the registry's answer to `upstreamPath` back, flipping a byte when `corrupt`. */
function forward(
	request: http.IncomingMessage,
	response: http.ServerResponse,
	upstream: URL,
	upstreamPath: string,
	corrupt: boolean,
): void {
	const outgoing = http.request(
		{
			host: upstream.hostname,
			port: upstream.port,
			path: upstreamPath,
			method: request.method,
			headers: forwardedHeaders(request, upstream),
		},
		(reply) => {
			const status = reply.statusCode ?? 502;
			const headers = {...reply.headers};
			delete headers.connection;
			delete headers['keep-alive'];
			response.writeHead(status, headers);
			if (corrupt && status >= 200 && status < 300) {
				reply.pipe(flipFirstByte()).pipe(response);
			} else {
				reply.pipe(response);
			}
		},
	);
	outgoing.on('error', () => response.destroy());
	request.pipe(outgoing);
}

function basicCredentials(header: string | undefined): {username: string; password: string} | undefined {
	const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
	if (!match) {
		return undefined;
	}

	const decoded = Buffer.from(match[1] as string, 'base64').toString();
	const colon = decoded.indexOf(':');
	return colon < 0 ? undefined : {username: decoded.slice(0, colon), password: decoded.slice(colon + 1)};
}

/** Parse `scope` parameters (each may hold several, space-separated) into a grant. */
function grantFor(scopes: readonly string[], allowPush: boolean): Grant {
	const repositories = new Map<string, Set<string>>();
	let catalog = false;
	for (const scope of scopes.flatMap((value) => value.split(' ')).filter(Boolean)) {
		// The name may not hold a colon, but a registry host:port before it could; split from the end.
		const actionsAt = scope.lastIndexOf(':');
		const typeAt = scope.indexOf(':');
		const type = scope.slice(0, typeAt);
		const name = scope.slice(typeAt + 1, actionsAt);
		const actions = scope.slice(actionsAt + 1).split(',');
		if (type === 'registry' && name === 'catalog') {
			catalog = true;
		} else if (type === 'repository' && name) {
			const granted = repositories.get(name) ?? new Set<string>();
			for (const action of actions) {
				if (action === 'pull' || (action === 'push' && allowPush)) {
					granted.add(action);
				}
			}

			repositories.set(name, granted);
		}
	}

	return {repositories, catalog};
}

/**
Start a token-challenging proxy on a free loopback port in front of `registryUrl`
(a plain-HTTP registry such as startRegistry's), closed at teardown.
*/
export async function startTokenProxy(
	t: Teardown,
	registryUrl: string,
	options: TokenProxyOptions = {},
): Promise<TokenProxy> {
	const upstream = new URL(registryUrl);
	const corrupt = options.corrupt ?? new Set<string>();
	const tokens = new Map<string, Grant>();
	// Storage links handed out in redirects; like a presigned URL, each is its own permission.
	const storageLinks = new Set<string>();
	const requests: ProxyRequest[] = [];
	let base = '';
	let storageBase = '';

	const tokenEndpoint = (
		request: http.IncomingMessage,
		response: http.ServerResponse,
		query: URLSearchParams,
	) => {
		if (options.credentials) {
			const given = basicCredentials(request.headers.authorization);
			if (
				given?.username !== options.credentials.username ||
				given.password !== options.credentials.password
			) {
				sendError(
					response,
					401,
					{'www-authenticate': `Basic realm="${tokenService}"`},
					errorJson('UNAUTHORIZED', 'authentication required'),
				);
				return;
			}
		}

		const token = randomBytes(24).toString('base64url');
		tokens.set(token, grantFor(query.getAll('scope'), options.allowPush ?? false));
		response.writeHead(200, {'content-type': 'application/json'});
		response.end(
			JSON.stringify({token, access_token: token, expires_in: 300, issued_at: new Date().toISOString()}),
		);
	};

	const challenge = (response: http.ServerResponse, need: Need, insufficient: boolean) => {
		const scope = scopeOf(need);
		const parts = [`realm="${base}/token"`, `service="${tokenService}"`];
		if (scope) {
			parts.push(`scope="${scope}"`);
		}

		if (insufficient) {
			parts.push('error="insufficient_scope"');
		}

		const detail =
			need.kind === 'repository' ? [{Type: 'repository', Name: need.name, Action: need.action}] : undefined;
		sendError(
			response,
			401,
			{'www-authenticate': `Bearer ${parts.join(',')}`},
			errorJson('UNAUTHORIZED', 'authentication required', detail),
		);
	};

	const registryRequest = async (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
		const method = request.method ?? 'GET';
		const need = needOf(method, url.pathname);
		const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
		const grant = bearer ? tokens.get(bearer[1] as string) : undefined;
		if (!grant || !allows(grant, need)) {
			challenge(response, need, grant !== undefined);
			return;
		}

		const blob = need.kind === 'repository' && /^blobs\/(sha256:[0-9a-f]{64})$/.exec(need.rest);
		const digest = blob ? (blob[1] as string) : undefined;
		if (digest && method === 'GET' && options.redirectBlobs && need.kind === 'repository') {
			// Redirect only to a blob that exists, so an unknown one still gets the registry's 404 JSON.
			const head = await fetch(`${upstream.origin}${url.pathname}`, {method: 'HEAD'});
			if (head.ok) {
				const link = randomBytes(16).toString('hex');
				storageLinks.add(link);
				response.writeHead(307, {location: `${storageBase}/storage/${need.name}/${digest}?link=${link}`});
				response.end();
				return;
			}
		}

		forward(
			request,
			response,
			upstream,
			`${url.pathname}${url.search}`,
			digest ? corrupt.has(digest) : false,
		);
	};

	const storageRequest = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
		const match = /^\/storage\/(.+)\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
		if (!match || !storageLinks.has(url.searchParams.get('link') ?? '')) {
			response.writeHead(403, {'content-type': 'text/plain'});
			response.end('not a link this storage handed out\n');
			return;
		}

		// Like S3 with a presigned link: a client that carries the registry's token along is refused.
		if (request.headers.authorization) {
			response.writeHead(400, {'content-type': 'text/plain'});
			response.end('only one auth mechanism allowed: the link, not an Authorization header\n');
			return;
		}

		const digest = match[2] as string;
		forward(request, response, upstream, `/v2/${match[1]}/blobs/${digest}`, corrupt.has(digest));
	};

	const server = http.createServer((request, response) => {
		const url = new URL(request.url ?? '/', base);
		const authorization = request.headers.authorization ?? '';
		const auth = /^Bearer\s/i.test(authorization)
			? 'bearer'
			: /^Basic\s/i.test(authorization)
				? 'basic'
				: 'none';
		response.on('finish', () => {
			requests.push({
				method: request.method ?? '',
				path: request.url ?? '',
				status: response.statusCode,
				auth,
			});
		});
		if (url.pathname === '/token' && request.method === 'GET') {
			tokenEndpoint(request, response, url.searchParams);
		} else if (url.pathname.startsWith('/storage/')) {
			storageRequest(request, response, url);
		} else if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) {
			registryRequest(request, response, url).catch(() => response.destroy());
		} else {
			response.writeHead(404, {'content-type': 'text/plain'});
			response.end('not found\n');
		}
	});
	await new Promise<void>((resolve) => {
		server.listen(options.port ?? 0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	base = `http://127.0.0.1:${port}`;
	// Another host name for the same socket, as storage is another host: clients drop the
	// registry's Authorization header on a redirect across hosts, and must.
	storageBase = `http://localhost:${port}`;
	let closed: Promise<void> | undefined;
	const close = () => {
		closed ??= new Promise<void>((resolve) => {
			server.closeAllConnections();
			server.close(() => resolve());
		});
		return closed;
	};

	t.teardown(close);
	return {url: base, host: `127.0.0.1:${port}`, port, requests, corrupt, close};
}
