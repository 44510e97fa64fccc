/**
The options of `sync`, in the order help lists them: the store, the upstream, the
selection, and sync's own (concurrency, dry run, output).
*/
import {boolean, integer} from './kinds.js';
import {option} from './option.js';
import {fipsOption, platformsOption, productsOption, versionsOption} from './selection.js';
import {commonOptions} from './store.js';
import {
	caFileOption,
	maxFileSizeOption,
	minSpeedOption,
	minSpeedWindowOption,
	retriesOption,
	retryDelayOption,
	timeoutOption,
	trustedKeyOption,
	upstreamOption,
	versionsApiOption,
} from './upstream.js';

/** Files downloaded at once. */
export const concurrencyOption = option({
	name: 'concurrency',
	arg: '<n>',
	env: ['MIRROR_CONCURRENCY'],
	description: 'files downloaded at once (1-64)',
	default: 4,
	...integer(1, 64),
});

/** Print the plan only. */
export const dryRunOption = option({
	name: 'dry-run',
	description: 'print the plan (fetch, skip and why) and touch nothing',
	flagOnly: true,
	...boolean,
});

/** JSON lines or text; absent: decided by whether stdout is a TTY. */
export const jsonOption = option({
	name: 'json',
	description: 'JSON lines on stdout (events, then a summary); --no-json for text',
	defaultText: 'on unless stdout is a TTY',
	flagOnly: true,
	negatable: true,
	...boolean,
});

/** The options of `sync`, in the order help lists them. */
export const syncOptions = [
	...commonOptions,
	upstreamOption,
	versionsApiOption,
	versionsOption,
	productsOption,
	platformsOption,
	fipsOption,
	trustedKeyOption,
	concurrencyOption,
	timeoutOption,
	minSpeedOption,
	minSpeedWindowOption,
	maxFileSizeOption,
	retriesOption,
	retryDelayOption,
	caFileOption,
	dryRunOption,
	jsonOption,
] as const;
