/**
The options that select what to mirror: versions, products, platforms and FIPS
builds. Sync reads them from every source; export takes the first three as flags.
*/
import {defaultPlatformIds, platforms, products} from '../../agent/catalog.js';
import type {OptionDef} from './option.js';

export const versionsDef: OptionDef = {
	name: 'versions',
	arg: '<list>',
	env: ['MIRROR_VERSIONS'],
	description: 'comma-separated exact versions, semver ranges (9.1.x, ">=8.17.0 <9") and latest',
	defaultText: 'required',
};

export const productsDef: OptionDef = {
	name: 'products',
	arg: '<list>',
	env: ['MIRROR_PRODUCTS'],
	description: `comma-separated products, or all: ${products.map((product) => product.name).join(', ')}`,
	defaultText: 'elastic-agent',
};

export const platformsDef: OptionDef = {
	name: 'platforms',
	arg: '<list>',
	env: ['MIRROR_PLATFORMS'],
	description: `comma-separated platforms, or all: ${platforms.map((platform) => platform.id).join(', ')}`,
	defaultText: defaultPlatformIds.join(','),
};

export const fipsDef: OptionDef = {
	name: 'fips',
	env: ['MIRROR_FIPS'],
	description: 'also mirror elastic-agent-fips-* where published',
	defaultText: 'off',
};
