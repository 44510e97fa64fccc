/**
The Koa application: middleware and routes, without listening, so tests can drive
it on a port-0 server and the CLI can put it behind HTTP or HTTPS.
*/

import type {IncomingMessage, ServerResponse} from 'node:http';
import {Router} from '@koa/router';
import Koa from 'koa';
import compose from 'koa-compose';
import type {Logger} from 'pino';
import {defendMetrics} from './defend/defend-metrics.js';
import {conditionalBody} from './http/conditional-body.js';
import {createJsonAnswers} from './json-answer.js';
import {createMetrics, type Metrics, streamBufferMetrics} from './metrics.js';
import {handleErrors, isClientAbort} from './middleware/errors.js';
import {checkPath, readOnly, securityHeaders} from './middleware/headers.js';
import {observe} from './middleware/observe.js';
import type {MirrorIndex} from './mirror-index.js';
import {ociMetrics} from './oci/metrics.js';
import {ociRoutes} from './oci/routes.js';
import {registryRoutes} from './registry/routes.js';
import {apiRoutes} from './routes/api.js';
import {defendApiRoutes} from './routes/defend-api.js';
import {imagesApiRoutes} from './routes/images-api.js';
import {opsRoutes} from './routes/ops.js';
import {packagesApiRoutes} from './routes/packages-api.js';
import {pageRoutes} from './routes/pages.js';
import type {ScheduleInfo} from './schedule.js';
import type {ServedMirror} from './served-mirror.js';
import {fastFiles} from './tree/fast-files.js';

/** What the app needs to know. */
export type AppOptions = {
	/** The mirror to serve (from `serveStore`). */
	readonly mirror: ServedMirror;
	/** The URL users reach the server at (no trailing slash); undefined: from each request. */
	readonly publicUrl?: string | undefined;
	/** Believe X-Forwarded-* from a reverse proxy. */
	readonly trustProxy?: boolean | undefined;
	/** Access log and error log; undefined: silent. */
	readonly logger?: Logger | undefined;
	/** Whether a shutdown is draining connections (responses then close them). */
	readonly isDraining?: (() => boolean) | undefined;
	/** The in-process sync schedule, when serve runs one. */
	readonly schedule?: (() => ScheduleInfo) | undefined;
	/** Serve `/metrics` on this app (false: it has its own address, see `metricsHandler`). */
	readonly metricsOnMainPort?: boolean | undefined;
	/** `serve --container-repository`: also serve images under ECK's flat names. */
	readonly containerRepository?: string | undefined;
	/** Answer small files held in memory before koa (tree/fast-files.ts); default true. */
	readonly fastFiles?: boolean | undefined;
};

/** The app and the pieces tests and the server look at. */
export type MirrorApp = {
	readonly app: Koa;
	readonly index: MirrorIndex;
	readonly metrics: Metrics;
	/** The request listener for an HTTP server: the fast path of small files, then koa. */
	readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
	/** Release connections to the object store. */
	readonly close: () => void;
};

/** Memory for cached API answers per view of the mirror (the artifact list of 100,000 artifacts is about 70 MiB). */
const answerCacheBytes = 128 * 1024 * 1024;

/** `scheme://host[:port]` as the client addressed this server (X-Forwarded-* only when trusted). */
function requestOrigin(ctx: Koa.Context): string {
	const host = /^[\w.:[\]-]+$/.test(ctx.host)
		? ctx.host
		: `${ctx.socket.localAddress ?? 'localhost'}:${ctx.socket.localPort ?? ''}`;
	return `${ctx.protocol}://${host}`;
}

/** Build the application for `options.mirror`. */
export function createApp(options: AppOptions): MirrorApp {
	const {mirror} = options;
	const {index} = mirror;
	const metrics = createMetrics(index, {
		schedule: options.schedule,
		blockStats: mirror.blockStats,
		lockAge: mirror.lockAge,
	});
	if (mirror.buffersInUse) {
		streamBufferMetrics(metrics.registry, mirror.buffersInUse);
	}

	const app = new Koa({proxy: options.trustProxy ?? false});
	// Errors reach users through handleErrors; what is left here is a client that
	// hung up mid-body, or a stream that failed after the headers went out.
	app.silent = true;
	app.on('error', (error: unknown) => {
		if (!isClientAbort(error)) {
			options.logger?.error({msg: 'response failed', err: error});
		}
	});

	const router = new Router();
	const deps = {
		index,
		metrics,
		publicUrl: (ctx: Koa.Context) => options.publicUrl ?? requestOrigin(ctx),
		schedule: options.schedule,
		answers: createJsonAnswers(answerCacheBytes),
		metricsOnMainPort: options.metricsOnMainPort ?? true,
		containerRepository: options.containerRepository,
	};
	pageRoutes(router, deps);
	apiRoutes(router, deps);
	packagesApiRoutes(router, deps);
	defendApiRoutes(router, deps);
	imagesApiRoutes(router, deps);
	opsRoutes(router, deps);

	app.use(observe(metrics, options.logger));
	app.use(handleErrors(options.logger));
	app.use(securityHeaders(options.isDraining ?? (() => false)));
	// The registry API answers its own methods and errors, as the distribution spec writes them.
	app.use(
		ociRoutes({
			index,
			source: mirror.source,
			metrics: ociMetrics(metrics.registry),
			containerRepository: options.containerRepository,
			logger: options.logger,
		}),
	);
	app.use(readOnly());
	app.use(checkPath());
	app.use(conditionalBody());
	// Paths under /downloads/ are most of the traffic and no route of the router
	// matches them: they go straight to the tree, past route matching.
	const {tree} = mirror;
	// Elastic Defend's manifests and artifacts are counted apart, on their way to the tree.
	const defendTree = compose([defendMetrics(metrics.registry, index), tree]);
	// The package registry's API sits at the root, as Kibana and other mirrors expect it.
	const registry = registryRoutes({index, files: mirror.packageFiles, downloads: metrics.packageDownloads});
	const routes = compose([registry, router.routes() as Koa.Middleware, tree]);
	app.use((ctx, next) => {
		// For absolute URLs in JSON answers (listings); computed only when asked for.
		ctx.state.publicUrl = () => deps.publicUrl(ctx);
		ctx.state.metricsLink = deps.metricsOnMainPort;
		if (!ctx.path.startsWith('/downloads/')) {
			return routes(ctx, next);
		}

		return ctx.path.startsWith('/downloads/endpoint/') ? defendTree(ctx, next) : tree(ctx, next);
	});
	const fast =
		options.fastFiles === false
			? undefined
			: fastFiles({
					source: mirror.source,
					metrics,
					logger: options.logger,
					isDraining: options.isDraining ?? (() => false),
					app,
				});
	// Composed on the first request that needs it, as app.callback() does when called.
	let callback: ReturnType<Koa['callback']> | undefined;
	const handler = (req: IncomingMessage, res: ServerResponse) => {
		if (!fast?.(req, res)) {
			callback ??= app.callback();
			void callback(req, res);
		}
	};
	return {app, index, metrics, handler, close: mirror.close};
}
