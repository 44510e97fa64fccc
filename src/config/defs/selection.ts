/**
The options that select what to mirror. Sync reads them from every source; export
takes the first three as flags.
*/

import {defaultPlatformIds, platforms, products} from '../../agent/catalog.js';
import type {VersionSpec} from '../../versions.js';
import {boolean, names, versionList} from './kinds.js';
import {group} from './option.js';

const productNames = products.map((product) => product.name);
const platformIds = platforms.map((platform) => platform.id);

/** Versions (sync requires them for binaries), products, platforms, and FIPS builds too. */
export const selectionDefs = group({
	versions: {
		...versionList,
		description: 'comma-separated exact versions, semver ranges (9.1.x, ">=8.17.0 <9") and latest',
		defaultText: 'required unless only packages or Defend artifacts are selected',
		show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
	},
	products: {
		...names(productNames, 'product'),
		description: `comma-separated products, or all: ${productNames.join(', ')}`,
		defaultText: 'elastic-agent, unless --packages, --defend-artifacts or --images is given',
	},
	platforms: {
		...names(platformIds, 'platform'),
		description: `comma-separated platforms, or all: ${platformIds.join(', ')}`,
		default: [...defaultPlatformIds],
	},
	fips: {...boolean, description: 'also mirror elastic-agent-fips-* where published', default: false},
});
