/**
The fast path of small files under /downloads/ (sidecars, keys): a GET or HEAD of a
file the directory source holds in memory is answered here, before koa, with the very
status, headers, body, access log line and metrics the koa path gives it (the
middleware of app.ts, the tree handler, conditional.ts). Everything else goes to koa:
other methods, paths it does not take exactly as they are (query strings aside),
refused paths, folders, artifacts (downloads are counted there), Elastic Defend's
files (counted apart), files not in memory, every error. Sidecars are most of the
requests a mirror answers, and koa's context, middleware chain and promises cost
several times what the answer itself does.
*/
import type {IncomingMessage, ServerResponse} from 'node:http';
import type Koa from 'koa';
import type {Logger} from 'pino';
import {classifyPath} from '../../agent/catalog.js';
import {isImmutableFile, treeFileHeaders} from '../../store/headers.js';
import {prepare, type ResponseTarget, type SendOptions} from '../http/conditional.js';
import {whenClosed} from '../http/exchange.js';
import {isRefusal, parseRequestPath, type TreeRequest} from '../http/request-path.js';
import type {Metrics} from '../metrics.js';
import {recordRequest} from '../middleware/observe.js';
import {pageCsp} from '../views/layout.js';
import type {TreeSource} from './source.js';

/** What the fast path needs of the app around it. */
export type FastFilesOptions = {
	readonly source: TreeSource;
	readonly metrics: Metrics;
	readonly logger: Logger | undefined;
	readonly isDraining: () => boolean;
	/** The koa app, for its proxy settings (the client's address in the access log). */
	readonly app: Koa;
};

/** Answers a request and returns true, or returns false having touched nothing. */
export type FastHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
Raw paths taken as they are: koa's path of these is the target before `?` (other
characters, such as `#` or spaces, make koa's URL parser take the slow way).
*/
const plainPath = /^\/downloads\/[\w.~!$&'()*+,;=:@%/-]*$/;

/** The client's address as koa's `ctx.ip` gives it. */
function clientIp(app: Koa, req: IncomingMessage): string {
	const forwarded = app.proxy ? req.headers[app.proxyIpHeader.toLowerCase()] : undefined;
	let ips = typeof forwarded === 'string' && forwarded ? forwarded.split(',').map((ip) => ip.trim()) : [];
	if (app.maxIpsCount > 0) {
		ips = ips.slice(-app.maxIpsCount);
	}

	return ips[0] || req.socket.remoteAddress || '';
}

/**
koa's response, as far as `prepare` uses it: headers go to `res` in the order set (so
the raw header block is koa's), and a body sets Content-Length as koa's body setter does
when Content-Type is already set. A class for its prototype: one per request, with no
closures of its own.
*/
class Target implements ResponseTarget {
	readonly method: string;
	#body: string | Buffer | undefined;
	readonly #req: IncomingMessage;
	readonly #res: ServerResponse;

	constructor(req: IncomingMessage, res: ServerResponse) {
		this.method = req.method ?? 'GET';
		this.#req = req;
		this.#res = res;
	}

	get(field: string): string {
		const value = this.#req.headers[field.toLowerCase()];
		return typeof value === 'string' ? value : '';
	}

	set(field: string, value: string): void {
		this.#res.setHeader(field, value);
	}

	get status(): number {
		return this.#res.statusCode;
	}

	set status(code: number) {
		this.#res.statusCode = code;
	}

	get length(): number {
		return Number(this.#res.getHeader('Content-Length'));
	}

	set length(bytes: number) {
		this.#res.setHeader('Content-Length', String(bytes));
	}

	get body(): unknown {
		return this.#body;
	}

	/** koa's `ctx.body = value` for a string or buffer (all that `prepare` and this path set). */
	set body(value: string | Buffer) {
		this.#body = value;
		this.#res.setHeader('Content-Length', String(Buffer.byteLength(value)));
	}
}

/** What a raw path decides, whatever the file there is now: worked out once per path. */
type PathFacts = {
	readonly request: TreeRequest;
	readonly route: string;
	readonly options: SendOptions;
};

/**
Paths whose facts are kept (those of files held in memory); past that, the memo starts
over. The small-file cache holds 32 MiB of files of a few hundred bytes: some 10,000
sidecars of a large mirror fit both.
*/
const maxRemembered = 20_000;

/** The facts of `rawPath`, or undefined when koa answers it (refused, a folder, an artifact). */
function factsOf(rawPath: string): PathFacts | undefined {
	const request = parseRequestPath(rawPath);
	if (isRefusal(request) || request.trailingSlash) {
		return undefined;
	}

	const kind = classifyPath(request.relative);
	if (kind?.kind === 'artifact') {
		return undefined;
	}

	const {contentType, cacheControl} = treeFileHeaders(request.relative, kind);
	return {
		request,
		route: kind?.kind ?? 'file',
		options: {contentType, cacheControl, immutable: isImmutableFile(kind, request.relative)},
	};
}

/** The fast path over `options.source`; undefined when the source holds nothing in memory to offer. */
export function fastFiles(options: FastFilesOptions): FastHandler | undefined {
	const {source, metrics, logger, isDraining, app} = options;
	const cached = source.cached;
	if (!cached || source.beforeRequest) {
		return undefined;
	}

	const remembered = new Map<string, PathFacts>();
	return (req, res) => {
		const started = performance.now();
		const method = req.method;
		if (method !== 'GET' && method !== 'HEAD') {
			return false;
		}

		const url = req.url ?? '';
		const query = url.indexOf('?');
		const rawPath = query === -1 ? url : url.slice(0, query);
		// Defend's files are counted by their own middleware, on the koa path.
		if (!plainPath.test(rawPath) || rawPath.startsWith('/downloads/endpoint/')) {
			return false;
		}

		const known = remembered.get(rawPath);
		const facts = known ?? factsOf(rawPath);
		if (!facts) {
			return false;
		}

		let file: ReturnType<typeof cached>;
		try {
			file = cached(facts.request);
		} catch {
			// koa answers the error (and logs it) as it always does.
			return false;
		}

		if (!file) {
			return false;
		}

		// Only the plain spelling of a file held in memory: made-up paths and other spellings
		// of a file (`//`, escapes) grow nothing, so the memo holds at most one path per file.
		if (!known && rawPath.length === facts.request.relative.length + 1) {
			if (remembered.size >= maxRemembered) {
				remembered.clear();
			}

			remembered.set(rawPath, facts);
		}

		const {route} = facts;
		const target = new Target(req, res);
		metrics.inFlight.inc();
		whenClosed({req, res}, () => {
			recordRequest(metrics, logger, {
				method,
				url,
				status: res.statusCode,
				route,
				bytes:
					method === 'HEAD' || !target.body
						? 0
						: Number.parseInt(String(res.getHeader('Content-Length')), 10) || 0,
				complete: res.writableFinished,
				started,
				ip: () => clientIp(app, req),
				userAgent: target.get('User-Agent'),
			});
		});
		res.setHeader('X-Content-Type-Options', 'nosniff');
		res.setHeader('Referrer-Policy', 'no-referrer');
		const range = prepare(target, file, facts.options);
		if (range) {
			target.body = file.body.subarray(range.start, range.end + 1);
		}

		if (String(res.getHeader('Content-Type') ?? '').startsWith('text/html')) {
			res.setHeader('Content-Security-Policy', pageCsp);
		}

		if (isDraining()) {
			res.setHeader('Connection', 'close');
		}

		// As koa responds: nothing more to a client that has gone, no body (nor its
		// headers) on a 304, none on a HEAD.
		if (res.writableEnded || res.socket?.writable === false) {
			res.end();
		} else if (res.statusCode === 304) {
			res.removeHeader('Content-Type');
			res.removeHeader('Content-Length');
			res.removeHeader('Transfer-Encoding');
			res.end();
		} else if (method === 'HEAD') {
			res.end();
		} else {
			res.end(target.body as string | Buffer);
		}

		return true;
	};
}
