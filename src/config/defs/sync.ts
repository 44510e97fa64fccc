/**
The option list of `sync`, in the order help lists them.
*/
import type {OptionDef} from './option.js';
import {fipsDef, platformsDef, productsDef, versionsDef} from './selection.js';
import {commonDefs} from './store.js';
import {
	caFileDef,
	maxFileSizeDef,
	minSpeedDef,
	minSpeedWindowDef,
	retriesDef,
	retryDelayDef,
	timeoutDef,
	trustedKeyDef,
	upstreamDef,
	versionsApiDef,
} from './upstream.js';

/** The options of `sync`, in the order help lists them. */
export const syncOptionDefs: readonly OptionDef[] = [
	...commonDefs,
	upstreamDef,
	versionsApiDef,
	versionsDef,
	productsDef,
	platformsDef,
	fipsDef,
	trustedKeyDef,
	{
		name: 'concurrency',
		arg: '<n>',
		env: ['MIRROR_CONCURRENCY'],
		description: 'files downloaded at once (1-64)',
		defaultText: '4',
	},
	timeoutDef,
	minSpeedDef,
	minSpeedWindowDef,
	maxFileSizeDef,
	retriesDef,
	retryDelayDef,
	caFileDef,
	{name: 'dry-run', description: 'print the plan (fetch, skip and why) and touch nothing', flagOnly: true},
	{
		name: 'json',
		description: 'JSON lines on stdout (events, then a summary); --no-json for text',
		defaultText: 'on unless stdout is a TTY',
		flagOnly: true,
		negatable: true,
	},
];
