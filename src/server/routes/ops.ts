/** Liveness, readiness and Prometheus metrics. */
import type {Router} from '@koa/router';
import type {RouteDeps} from './context.js';

/** Register `/healthz`, `/readyz` and (unless it has its own address) `/metrics` on `router`. */
export function opsRoutes(router: Router, deps: RouteDeps): void {
	router.get('/healthz', (ctx) => {
		ctx.state.route = 'ops';
		ctx.set('Cache-Control', 'no-store');
		ctx.type = 'text/plain; charset=utf-8';
		ctx.body = 'ok\n';
	});

	router.get('/readyz', async (ctx) => {
		ctx.state.route = 'ops';
		ctx.set('Cache-Control', 'no-store');
		try {
			await deps.index.check();
			await deps.index.snapshot();
			ctx.body = {ready: true};
		} catch (error) {
			ctx.status = 503;
			ctx.body = {ready: false, reason: (error as Error).message};
		}
	});

	if (deps.metricsOnMainPort) {
		router.get('/metrics', async (ctx) => {
			ctx.state.route = 'ops';
			ctx.set('Cache-Control', 'no-store');
			ctx.type = deps.metrics.registry.contentType;
			ctx.body = await deps.metrics.registry.metrics();
		});
	}
}
