/**
`/api/v1/packages`: the integration package versions the mirror holds, for people
and scripts (Kibana reads the registry API at the root instead): what each is, which
Kibana versions it works with, and where its zip, signature and info are.
*/
import type {Router} from '@koa/router';
import semver from 'semver';
import {packagePaths} from '../../packages/catalog.js';
import {satisfiesConstraint} from '../../packages/constraint.js';
import {shortCache} from '../../store/headers.js';
import type {PackageEntry} from '../../store/manifest.js';
import {kibanaCondition, packageTitle, searchField, sortedPackages} from '../registry/package-index.js';
import type {RouteDeps} from './context.js';

function packageJson(entry: PackageEntry, base: string) {
	const paths = packagePaths(entry.name, entry.version);
	return {
		name: entry.name,
		version: entry.version,
		title: packageTitle(entry),
		type: searchField(entry.search, 'type') ?? 'integration',
		release: searchField(entry.search, 'release') ?? null,
		kibana: kibanaCondition(entry),
		formatVersion: entry.formatVersion,
		size: entry.size,
		sha512: entry.sha512,
		path: paths.zip,
		url: `${base}/${paths.zip}`,
		signatureUrl: `${base}/${paths.signature}`,
		infoUrl: `${base}/package/${entry.name}/${entry.version}/`,
		publishedAt: entry.publishedAt,
	};
}

/** Register `/api/v1/packages` (filters: `name`, `kibana.version`) on `router`. */
export function packagesApiRoutes(router: Router, deps: RouteDeps): void {
	router.get('/api/v1/packages', async (ctx) => {
		ctx.state.route = 'api';
		const snapshot = await deps.index.snapshot();
		const base = deps.publicUrl(ctx);
		const name = typeof ctx.query.name === 'string' && ctx.query.name !== '' ? ctx.query.name : undefined;
		const kibana = ctx.query['kibana.version'];
		const kibanaVersion = typeof kibana === 'string' && kibana !== '' ? semver.valid(kibana) : undefined;
		if (kibanaVersion === null) {
			ctx.throw(400, `invalid kibana.version "${String(kibana)}": expected a version like 9.1.0`);
		}

		const packages = sortedPackages(snapshot).filter((entry) => {
			const condition = kibanaCondition(entry);
			return (
				(name === undefined || entry.name === name) &&
				(kibanaVersion === undefined ||
					condition === null ||
					satisfiesConstraint(kibanaVersion as string, condition))
			);
		});
		ctx.set('Cache-Control', shortCache);
		ctx.body = {count: packages.length, packages: packages.map((entry) => packageJson(entry, base))};
	});
}
