/**
The record of sync runs that the server shows: the last run whatever its result,
and the last successful one, written only after success.
*/
import {readFile} from 'node:fs/promises';
import {writeFileAtomic} from './dir/atomic.js';
import type {Layout} from './layout.js';

/** Counts from one run. */
export type RunCounts = {
	published: number;
	present: number;
	notPublished: number;
	failed: number;
	bytes: number;
	/** Key files updated and already current; `published` and `present` count artifacts only. */
	keys?: {published: number; present: number} | undefined;
	/** Integration package versions, when packages were selected: not in `published` and `present`, but in `failed`. */
	packages?: {published: number; present: number; failed: number} | undefined;
	/** Elastic Defend versions and artifacts, when Defend was selected: not in `published` and `present`, but failures are in `failed`. */
	defend?:
		| {
				updated: number;
				unchanged: number;
				failed: number;
				artifacts: {published: number; present: number};
		  }
		| undefined;
	/** Container image tags and blobs, when images were selected: failed tags are in `failed`. */
	images?:
		| {
				updated: number;
				unchanged: number;
				skipped: number;
				failed: number;
				blobs: {published: number; present: number};
		  }
		| undefined;
};

/** One file a run could not publish, as the pages and the status API show it. */
export type RunFailure = {
	/** The file's path in the tree (upstream's path). */
	readonly path: string;
	/** Why, in one line, with credentials and local paths left out. */
	readonly reason: string;
	/** The error code (ERR_…), when there is one. */
	readonly code?: string | undefined;
};

/** How many failures a run record keeps; the count in `counts.failed` is always whole. */
export const maxRecordedFailures = 50;

/** How many runs the history keeps, newest first. */
export const maxHistory = 20;

/** One sync run as recorded. */
export type RunRecord = {
	/** What filled the mirror: a sync from upstream (the default) or an imported bundle. */
	readonly kind?: 'sync' | 'import' | undefined;
	readonly startedAt: string;
	readonly finishedAt: string;
	readonly result: 'success' | 'failed';
	readonly counts: RunCounts;
	readonly error?: string | undefined;
	/** The first `maxRecordedFailures` files that failed, in the order they failed. */
	readonly failures?: readonly RunFailure[] | undefined;
};

/** What status.json holds. */
export type Status = {
	lastRun?: RunRecord;
	lastSuccess?: RunRecord;
	/** The last `maxHistory` runs, newest first, without their failure lists. */
	history?: RunRecord[];
};

/** Parse status.json; unreadable is an empty status. */
export function parseStatus(text: string | undefined): Status {
	try {
		return text === undefined ? {} : (JSON.parse(text) as Status);
	} catch {
		return {};
	}
}

/** `status` with `run` recorded: always as the last run, as the last success only on success. */
export function withRun(status: Status, run: RunRecord): Status {
	const {failures: _failures, ...summary} = run;
	const recorded: RunRecord =
		run.failures && run.failures.length > maxRecordedFailures
			? {...run, failures: run.failures.slice(0, maxRecordedFailures)}
			: run;
	return {
		...status,
		lastRun: recorded,
		...(run.result === 'success' ? {lastSuccess: recorded} : {}),
		history: [summary, ...(status.history ?? [])].slice(0, maxHistory),
	};
}

/** status.json's text. */
export function serializeStatus(status: Status): string {
	return `${JSON.stringify(status, null, '\t')}\n`;
}

/** Read status.json; missing or unreadable is an empty status. */
export async function readStatus(mirror: Layout): Promise<Status> {
	return parseStatus(await readFile(mirror.status, 'utf8').catch(() => undefined));
}

/** Record a finished run. */
export async function recordRun(mirror: Layout, run: RunRecord): Promise<void> {
	const status = withRun(await readStatus(mirror), run);
	await writeFileAtomic(mirror.status, serializeStatus(status), mirror.state);
}
