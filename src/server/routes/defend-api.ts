/**
`/api/v1/defend`: the Elastic Defend versions the mirror holds, for people and
scripts (Endpoint itself reads the manifest zips under /downloads/endpoint/): each
version's manifest_version, how many artifacts it names and their size, when upstream
last confirmed it, and where its manifest is.
*/
import type {Router} from '@koa/router';
import {shortCache} from '../../store/headers.js';
import {type DefendRow, defendRows, defendSettings, isDefendStale} from '../defend/defend-rows.js';
import type {RouteDeps} from './context.js';

function versionJson({entry, artifactCount, artifactBytes}: DefendRow, base: string, now: number) {
	return {
		version: entry.version,
		manifestVersion: entry.manifestVersion,
		schemaVersion: entry.schemaVersion,
		artifacts: artifactCount,
		artifactBytes,
		manifestPath: entry.path,
		manifestUrl: `${base}/${entry.path}`,
		manifestSize: entry.size,
		manifestSha512: entry.sha512,
		refreshedAt: entry.refreshedAt,
		publishedAt: entry.publishedAt,
		stale: isDefendStale(entry, now),
	};
}

/** Register `/api/v1/defend` on `router`. */
export function defendApiRoutes(router: Router, deps: RouteDeps): void {
	router.get('/api/v1/defend', async (ctx) => {
		ctx.state.route = 'api';
		const snapshot = await deps.index.snapshot();
		const base = deps.publicUrl(ctx);
		const now = Date.now();
		const versions = defendRows(snapshot).map((row) => versionJson(row, base, now));
		ctx.set('Cache-Control', shortCache);
		ctx.body = {
			count: versions.length,
			// What to paste into the Defend policy's advanced settings.
			settings: defendSettings(base).split('\n'),
			versions,
		};
	});
}
