/**
The option lists of `verify` and `prune`.
*/
import type {VersionSpec} from '../../versions.js';
import {boolean, integer, versionList} from './kinds.js';
import {option} from './option.js';
import {commonOptions} from './store.js';
import {dryRunOption} from './sync.js';
import {
	caFileOption,
	retriesOption,
	retryDelayOption,
	timeoutOption,
	trustedKeyOption,
	upstreamOption,
} from './upstream.js';

/** verify --repair. */
export const repairOption = option({
	name: 'repair',
	description: 'move bad artifacts to .mirror/quarantine/ and fetch them again from the upstream',
	default: false,
	flagOnly: true,
	...boolean,
});

/** The options of `verify`. */
export const verifyOptions = [
	...commonOptions,
	trustedKeyOption,
	repairOption,
	upstreamOption,
	caFileOption,
	timeoutOption,
	retriesOption,
	retryDelayOption,
] as const;

/** prune --keep-latest. */
export const keepLatestOption = option({
	name: 'keep-latest',
	arg: '<n>',
	description: 'keep the newest N versions of each product and major.minor',
	flagOnly: true,
	...integer(1, 1000),
});

/** prune --keep-versions. */
export const keepVersionsOption = option({
	name: 'keep-versions',
	arg: '<list>',
	description: 'keep versions matching these (syntax of sync --versions)',
	flagOnly: true,
	...versionList,
	show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
});

/** prune --unselected. */
export const unselectedOption = option({
	name: 'unselected',
	description: 'remove what the sync config (versions, products, platforms, fips) no longer selects',
	flagOnly: true,
	...boolean,
});

/** prune --yes. */
export const yesOption = option({
	name: 'yes',
	description: 'delete; without it prune only prints what it would delete',
	flagOnly: true,
	...boolean,
});

/** prune --dry-run: sync's words do not fit, prune's dry run is the default. */
export const pruneDryRunOption = option({
	...dryRunOption,
	description: 'only print what would be deleted (the default without --yes)',
});

/** The options of `prune`. */
export const pruneOptions = [
	...commonOptions,
	keepLatestOption,
	keepVersionsOption,
	unselectedOption,
	yesOption,
	pruneDryRunOption,
] as const;
