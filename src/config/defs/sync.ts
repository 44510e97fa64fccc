/**
The options of `sync`, in the order help lists them: the store, the upstream, the
selection, and sync's own (concurrency, dry run, output).
*/

import {defendDefs} from './defend.js';
import {imageDefs} from './images.js';
import {boolean, integer} from './kinds.js';
import {group} from './option.js';
import {packageDefs} from './packages.js';
import {selectionDefs} from './selection.js';
import {commonOptions} from './store.js';
import {upstreamDefs} from './upstream.js';

/** Sync's own options: downloads at once, the plan only, and JSON lines or text (absent: by whether stdout is a TTY). */
export const syncDefs = group({
	concurrency: {...integer(1, 64), description: 'files downloaded at once (1-64)', default: 4},
	dryRun: {...boolean, description: 'print the plan (fetch, skip and why) and touch nothing', flagOnly: true},
	json: {
		...boolean,
		description: 'JSON lines on stdout (events, then a summary); --no-json for text',
		defaultText: 'on unless stdout is a TTY',
		flagOnly: true,
		negatable: true,
	},
});

/** The options of `sync`, in the order help lists them. */
export const syncOptions = [
	...commonOptions,
	upstreamDefs.upstream,
	upstreamDefs.versionsApi,
	...Object.values(selectionDefs),
	...Object.values(packageDefs),
	...Object.values(defendDefs),
	...Object.values(imageDefs),
	upstreamDefs.trustedKey,
	syncDefs.concurrency,
	upstreamDefs.timeout,
	upstreamDefs.minSpeed,
	upstreamDefs.minSpeedWindow,
	upstreamDefs.maxFileSize,
	upstreamDefs.retries,
	upstreamDefs.retryDelay,
	upstreamDefs.caFile,
	syncDefs.dryRun,
	syncDefs.json,
] as const;
