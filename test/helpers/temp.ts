/** Throwaway directories, removed when the test ends. */
import {mkdtemp, readdir, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {Teardown} from './teardown.js';

/** A new empty directory, deleted on teardown. */
export async function tempDir(t: Teardown, prefix = 'mirror-test-'): Promise<string> {
	const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	return dir;
}

/** Every file below `dir`, as `/`-separated relative paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
	const entries = await readdir(dir, {recursive: true, withFileTypes: true});
	return entries
		.filter((entry) => entry.isFile())
		.map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
		.sort();
}
