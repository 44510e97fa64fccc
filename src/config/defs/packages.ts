/**
The options that select integration packages and the registry they come from.
Sync reads them from every source.
*/
import {
	defaultRegistry,
	type PackageRequest,
	parsePackageRequests,
	requestText,
} from '../../packages/catalog.js';
import type {VersionSpec} from '../../versions.js';
import {splitList} from '../parse.js';
import {boolean, rootUrl, versionList} from './kinds.js';
import {group} from './option.js';

/** `nginx`, `nginx@1.2.3` or `all`, as mirror.yml may list them. */
const packagePattern = '^\\s*(all|[a-z0-9_]+(@\\S+)?)\\s*$';

/** Packages, the Kibana versions they must work with, the upstream registry, and prereleases. */
export const packageDefs = group({
	packages: {
		parse: (raw, origin) => parsePackageRequests(splitList(raw), origin.label),
		schema: {anyOf: [{type: 'array', items: {type: 'string', pattern: packagePattern}}, {type: 'string'}]},
		arg: '<list>',
		description: 'integration packages: names (nginx), name@version for an exact version, or all',
		defaultText: 'none',
		show: (requests: readonly PackageRequest[]) => requests.map(requestText),
	},
	kibanaVersions: {
		...versionList,
		description:
			'Kibana versions the packages must work with: exact versions, ranges and latest, resolved like --versions',
		defaultText: 'what --versions resolves to',
		show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
	},
	registry: {
		...rootUrl,
		description: 'upstream package registry (epr.elastic.co, its staging or snapshot, or another mirror)',
		default: defaultRegistry,
	},
	packagePrerelease: {
		...boolean,
		description: 'also consider prerelease package versions',
		default: false,
	},
});
