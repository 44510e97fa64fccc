/**
Per-request bookkeeping, outermost so it sees the final status: the JSON access
log line and the HTTP metrics, both written when the response closes (finished or
aborted by the client; for a pipelined response still queued, when its request closes).
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

/** The access log and metrics middleware. `logger` undefined: no access log. */
export function observe(metrics: Metrics, logger: Logger | undefined): Middleware<ObservedState> {
	return async (ctx, next) => {
		const started = performance.now();
		metrics.inFlight.inc();
		whenClosed(ctx, () => {
			metrics.inFlight.dec();
			const state = ctx.state;
			const route = state.route ?? 'other';
			const complete = ctx.res.writableFinished;
			const bytes = state.bytesSent
				? state.bytesSent()
				: ctx.method === 'HEAD' || !ctx.body
					? 0
					: (ctx.response.length ?? 0);
			metrics.requests.inc({route, method: ctx.method, status: String(ctx.status)});
			metrics.duration.observe({route, method: ctx.method}, (performance.now() - started) / 1000);
			metrics.bytes.inc({route}, bytes);
			if (state.download && complete && ctx.status === 200 && ctx.method === 'GET') {
				const ref = state.download;
				metrics.downloads.inc({
					product: ref.fips ? `${ref.product}-fips` : ref.product,
					version: ref.version,
					platform: ref.platform,
				});
				metrics.countAgentDownload(agentVersionOf(ctx.get('User-Agent')));
			}

			logger?.info({
				msg: 'request',
				method: ctx.method,
				url: ctx.originalUrl,
				status: ctx.status,
				bytes,
				ms: Math.round((performance.now() - started) * 10) / 10,
				ip: ctx.ip,
				ua: ctx.get('User-Agent') || undefined,
				...(complete ? {} : {aborted: true}),
			});
		});
		await next();
	};
}
