/**
The options that select what to mirror: versions, products, platforms and FIPS
builds. Sync reads them from every source; export takes the first three as flags.
*/

import {defaultPlatformIds, platforms, products} from '../../agent/catalog.js';
import type {VersionSpec} from '../../versions.js';
import {boolean, names, versionList} from './kinds.js';
import {option} from './option.js';

const productNames = products.map((product) => product.name);
const platformIds = platforms.map((platform) => platform.id);

/** Versions to mirror; sync requires them. */
export const versionsOption = option({
	name: 'versions',
	arg: '<list>',
	env: ['MIRROR_VERSIONS'],
	description: 'comma-separated exact versions, semver ranges (9.1.x, ">=8.17.0 <9") and latest',
	defaultText: 'required',
	...versionList,
	show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
});

/** Products to mirror. */
export const productsOption = option({
	name: 'products',
	arg: '<list>',
	env: ['MIRROR_PRODUCTS'],
	description: `comma-separated products, or all: ${productNames.join(', ')}`,
	default: ['elastic-agent'],
	...names(productNames, 'product'),
});

/** Platforms to mirror. */
export const platformsOption = option({
	name: 'platforms',
	arg: '<list>',
	env: ['MIRROR_PLATFORMS'],
	description: `comma-separated platforms, or all: ${platformIds.join(', ')}`,
	default: [...defaultPlatformIds],
	...names(platformIds, 'platform'),
});

/** FIPS builds too. */
export const fipsOption = option({
	name: 'fips',
	env: ['MIRROR_FIPS'],
	description: 'also mirror elastic-agent-fips-* where published',
	default: false,
	...boolean,
});
