/**
Leftovers of killed runs that no later run resumes, removed by the next command that
takes the write lock (a killed import's staging would otherwise wait for a sync days
later, holding a bundle's worth of disk).
*/
import {readdir, rm, stat} from 'node:fs/promises';
import path from 'node:path';

/** Staging folders of imports start with this, in the target's temp folder. */
export const importStagingPrefix = 'import-';

/**
Remove what killed runs left that no run resumes: import staging in `tmp`, and the
temp files of atomic writes in `state`. Only called with the lock held, so none of
them belongs to a live run. Partial downloads stay: the next sync resumes them.
*/
export async function removeAbandoned(tmp: string, state?: string): Promise<void> {
	const names = async (folder: string) => readdir(folder).catch(() => [] as string[]);
	for (const name of await names(tmp)) {
		if (name.startsWith(importStagingPrefix)) {
			await rm(path.join(tmp, name), {recursive: true, force: true});
		}
	}

	if (state) {
		for (const name of await names(state)) {
			if (/^\..+\.[0-9a-f]{12}\.tmp$/.test(name) || /^sync\.lock\.[0-9a-f]+\.tmp$/.test(name)) {
				await rm(path.join(state, name), {force: true});
			}
		}
	}
}

/** Partial downloads untouched this long belong to files no longer selected. */
const stalePartialMs = 7 * 24 * 60 * 60 * 1000;

/**
Remove partial downloads in `tmp` that no run has touched for a week: a file no longer
selected would otherwise keep its partial bytes for ever. Younger ones stay for the
next run to resume.
*/
export async function removeStalePartials(tmp: string): Promise<void> {
	for (const name of await readdir(tmp)) {
		const file = path.join(tmp, name);
		const info = await stat(file).catch(() => undefined);
		if (info && Date.now() - info.mtimeMs > stalePartialMs) {
			await rm(file, {force: true, recursive: true});
		}
	}
}

/**
Remove every partial download in `tmp` (import staging apart, which removeAbandoned
handles), for a run that took the lock over from a holder that may still be writing.
*/
export async function removePartials(tmp: string): Promise<void> {
	for (const name of await readdir(tmp).catch(() => [] as string[])) {
		if (!name.startsWith(importStagingPrefix)) {
			await rm(path.join(tmp, name), {force: true, recursive: true});
		}
	}
}
