/**
Per-request bookkeeping, outermost so it sees the final status: the JSON access
log line and the HTTP metrics, both written when the response closes (finished or
aborted by the client; for a pipelined response still queued, when its request closes).
The fast path of small files (tree/fast-files.ts) writes the same through `recordRequest`.
*/
import type {Middleware} from 'koa';
import type {Logger} from 'pino';
import type {ArtifactRef} from '../../agent/catalog.js';
import {whenClosed} from '../http/exchange.js';
import {agentVersionOf, type Metrics} from '../metrics.js';

/** What handlers leave in `ctx.state` for this middleware. */
export type ObservedState = {
	/** A low-cardinality name for the route, for the metrics label. */
	route?: string;
	/** Body bytes handed to the socket so far, for streamed files. */
	bytesSent?: () => number;
	/** Set when the response is an artifact (not a sidecar), to count downloads. */
	download?: ArtifactRef;
};

/** One closed exchange, as the access log and the metrics see it. */
export type RequestRecord = {
	readonly method: string;
	/** The request target as the client sent it. */
	readonly url: string;
	readonly status: number;
	readonly route: string;
	readonly bytes: number;
	/** The whole response went out. */
	readonly complete: boolean;
	/** When the request came in (performance.now()). */
	readonly started: number;
	/** The client's address (asked only for the access log). */
	readonly ip: () => string;
	readonly userAgent: string;
	readonly download?: ArtifactRef | undefined;
};

/** Count `record` in `metrics` and write its access log line to `logger`. */
export function recordRequest(metrics: Metrics, logger: Logger | undefined, record: RequestRecord): void {
	const {route, method, bytes, complete} = record;
	metrics.inFlight.dec();
	metrics.requests.inc({route, method, status: String(record.status)});
	metrics.duration.observe({route, method}, (performance.now() - record.started) / 1000);
	metrics.bytes.inc({route}, bytes);
	const ref = record.download;
	if (ref && complete && record.status === 200 && method === 'GET') {
		metrics.downloads.inc({
			product: ref.fips ? `${ref.product}-fips` : ref.product,
			version: ref.version,
			platform: ref.platform,
		});
		metrics.countAgentDownload(agentVersionOf(record.userAgent));
	}

	logger?.info({
		msg: 'request',
		method,
		url: record.url,
		status: record.status,
		bytes,
		ms: Math.round((performance.now() - record.started) * 10) / 10,
		ip: record.ip(),
		ua: record.userAgent || undefined,
		...(complete ? {} : {aborted: true}),
	});
}

/** The access log and metrics middleware. `logger` undefined: no access log. */
export function observe(metrics: Metrics, logger: Logger | undefined): Middleware<ObservedState> {
	return async (ctx, next) => {
		const started = performance.now();
		metrics.inFlight.inc();
		whenClosed(ctx, () => {
			const state = ctx.state;
			recordRequest(metrics, logger, {
				method: ctx.method,
				url: ctx.originalUrl,
				status: ctx.status,
				route: state.route ?? 'other',
				bytes: state.bytesSent
					? state.bytesSent()
					: ctx.method === 'HEAD' || !ctx.body
						? 0
						: (ctx.response.length ?? 0),
				complete: ctx.res.writableFinished,
				started,
				ip: () => ctx.ip,
				userAgent: ctx.get('User-Agent'),
				download: state.download,
			});
		});
		await next();
	};
}
