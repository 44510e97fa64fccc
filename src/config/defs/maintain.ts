/**
The option lists of `verify` and `prune`.
*/
import type {OptionDef} from './option.js';
import {commonDefs} from './store.js';
import {caFileDef, retriesDef, retryDelayDef, timeoutDef, trustedKeyDef, upstreamDef} from './upstream.js';

/** The options of `verify`. */
export const verifyOptionDefs: readonly OptionDef[] = [
	...commonDefs,
	trustedKeyDef,
	{
		name: 'repair',
		description: 'move bad artifacts to .mirror/quarantine/ and fetch them again from the upstream',
		defaultText: 'off',
		flagOnly: true,
	},
	upstreamDef,
	caFileDef,
	timeoutDef,
	retriesDef,
	retryDelayDef,
];

/** The options of `prune`. */
export const pruneOptionDefs: readonly OptionDef[] = [
	...commonDefs,
	{
		name: 'keep-latest',
		arg: '<n>',
		description: 'keep the newest N versions of each product and major.minor',
		flagOnly: true,
	},
	{
		name: 'keep-versions',
		arg: '<list>',
		description: 'keep versions matching these (syntax of sync --versions)',
		flagOnly: true,
	},
	{
		name: 'unselected',
		description: 'remove what the sync config (versions, products, platforms, fips) no longer selects',
		flagOnly: true,
	},
	{name: 'yes', description: 'delete; without it prune only prints what it would delete', flagOnly: true},
	{
		name: 'dry-run',
		description: 'only print what would be deleted (the default without --yes)',
		flagOnly: true,
	},
];
