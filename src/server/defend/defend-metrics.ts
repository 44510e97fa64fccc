/**
The metrics of Elastic Defend protections: how old each held manifest is (what to
alert on: Endpoint runs on the protections of the last manifest the mirror got), and
requests for manifests and artifacts by status (a fleet of endpoints polling shows as
a stream of manifest 304s).
*/
import type {Middleware} from 'koa';
import {Counter, Gauge, type Registry} from 'prom-client';
import {whenClosed} from '../http/exchange.js';
import type {TreeRequest} from '../http/request-path.js';
import type {MirrorIndex} from '../mirror-index.js';
import {defendFileKind} from './defend-kind.js';
import {defendAgeSeconds} from './defend-rows.js';

/** What a request of the Defend tree asks for; undefined for anything else (listings included). */
function defendKindOf(request: TreeRequest | undefined): 'manifest' | 'artifact' | undefined {
	return request && !request.trailingSlash ? defendFileKind(request.relative) : undefined;
}

/**
Register `mirror_defend_manifest_age_seconds{version}` and `mirror_defend_versions`,
read from the manifest at scrape time, and return the middleware that counts
`mirror_defend_requests_total{kind,status}` for the tree requests it sees and labels
their route `defend-manifest` or `defend-artifact`.
*/
export function defendMetrics(registry: Registry, index: MirrorIndex): Middleware {
	new Gauge({
		name: 'mirror_defend_manifest_age_seconds',
		help: 'Seconds since upstream last confirmed the Elastic Defend manifest of each version the mirror holds (refreshed by sync)',
		labelNames: ['version'],
		registers: [registry],
		async collect() {
			const {versions} = (await index.snapshot()).manifest.defend;
			const now = Date.now();
			// A version no longer held leaves the series rather than keep its last age.
			this.reset();
			for (const entry of Object.values(versions)) {
				this.set({version: entry.version}, Math.round(defendAgeSeconds(entry, now)));
			}
		},
	});
	new Gauge({
		name: 'mirror_defend_versions',
		help: 'Elastic Defend versions whose protection manifest the mirror holds',
		registers: [registry],
		async collect() {
			this.set(Object.keys((await index.snapshot()).manifest.defend.versions).length);
		},
	});
	const requests = new Counter({
		name: 'mirror_defend_requests_total',
		help: 'Requests for Elastic Defend manifests and artifacts, by kind and status (304: an endpoint already had the file)',
		labelNames: ['kind', 'status'],
		registers: [registry],
	});
	return async (ctx, next) => {
		const kind = defendKindOf(ctx.state.tree as TreeRequest | undefined);
		if (!kind) {
			return next();
		}

		whenClosed(ctx, () => requests.inc({kind, status: String(ctx.status)}));
		try {
			await next();
		} finally {
			ctx.state.route = `defend-${kind}`;
		}
	};
}
