/**
The record of sync runs that the server shows: the last run whatever its result,
and the last successful one, written only after success.
*/
import {readFile} from 'node:fs/promises';
import {writeFileAtomic} from './atomic.js';
import type {Layout} from './layout.js';

/** Counts from one run. */
export type RunCounts = {
	published: number;
	present: number;
	notPublished: number;
	failed: number;
	bytes: number;
};

/** One sync run as recorded. */
export type RunRecord = {
	/** What filled the mirror: a sync from upstream (the default) or an imported bundle. */
	readonly kind?: 'sync' | 'import' | undefined;
	readonly startedAt: string;
	readonly finishedAt: string;
	readonly result: 'success' | 'failed';
	readonly counts: RunCounts;
	readonly error?: string | undefined;
};

/** What status.json holds. */
export type Status = {
	lastRun?: RunRecord;
	lastSuccess?: RunRecord;
};

/** Read status.json; missing or unreadable is an empty status. */
export async function readStatus(mirror: Layout): Promise<Status> {
	try {
		return JSON.parse(await readFile(mirror.status, 'utf8')) as Status;
	} catch {
		return {};
	}
}

/** Record a finished run. */
export async function recordRun(mirror: Layout, run: RunRecord): Promise<void> {
	const status = await readStatus(mirror);
	status.lastRun = run;
	if (run.result === 'success') {
		status.lastSuccess = run;
	}

	await writeFileAtomic(mirror.status, `${JSON.stringify(status, null, '\t')}\n`, mirror.state);
}
