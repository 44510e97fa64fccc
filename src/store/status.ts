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
	return {...status, lastRun: run, ...(run.result === 'success' ? {lastSuccess: run} : {})};
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
