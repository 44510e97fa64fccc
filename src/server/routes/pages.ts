/** The catalogue page and its static assets. */
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {Router} from '@koa/router';
import serveStatic from 'koa-static';
import {shortCache} from '../../store/headers.js';
import {homePage} from '../views/home.js';
import type {RouteDeps} from './context.js';

/** The stylesheet and script, next to this module in src/ and dist/. */
const publicDir = fileURLToPath(new URL('../public', import.meta.url));

/** Register `/` and `/assets/*` on `router`. */
export function pageRoutes(router: Router, deps: RouteDeps): void {
	router.get('/', async (ctx) => {
		ctx.state.route = 'page';
		const snapshot = await deps.index.snapshot();
		ctx.set('Cache-Control', shortCache);
		ctx.type = 'text/html; charset=utf-8';
		ctx.body = homePage(
			snapshot,
			deps.publicUrl(ctx),
			Date.now(),
			deps.schedule?.(),
			() => deps.metrics.cachedAnswers.inc({route: 'page'}),
			deps.metricsOnMainPort,
			deps.containerRepository === undefined ? {} : {containerRepository: deps.containerRepository},
		);
	});

	const assets = serveStatic(path.resolve(publicDir), {
		index: false,
		hidden: false,
		gzip: false,
		brotli: false,
		maxage: 3600 * 1000,
	});
	router.get('/assets/:file', async (ctx) => {
		ctx.state.route = 'assets';
		ctx.path = `/${ctx.params.file ?? ''}`;
		await assets(ctx, async () => {
			ctx.throw(404, 'not found');
		});
	});
}
