/**
Every entry of a mirror directory's served tree, for verify to find what the
manifest does not account for; and the files of one folder, for sync's inspection. Links are reported, never followed: the server does
not follow them, and a link may point anywhere.
*/
import type {Dirent} from 'node:fs';
import {readdir} from 'node:fs/promises';
import path from 'node:path';
import {stateFolder} from '../layout.js';
import type {TreeEntry} from '../store.js';

/** The entries below `root`, folders walked depth first, the state folder left out. */
export async function* walkTree(root: string, relative = ''): AsyncGenerator<TreeEntry> {
	const entries = await readdir(path.join(root, relative), {withFileTypes: true});
	entries.sort((a, b) => a.name.localeCompare(b.name));
	for (const entry of entries) {
		const child = relative ? `${relative}/${entry.name}` : entry.name;
		if (!relative && entry.name === stateFolder) {
			continue;
		}

		if (entry.isSymbolicLink()) {
			yield {path: child, kind: 'link'};
		} else if (entry.isDirectory()) {
			yield* walkTree(root, child);
		} else {
			yield {path: child, kind: entry.isFile() ? 'file' : 'other'};
		}
	}
}

/**
The names in `folder` that are files, or links (whose target only a stat can tell),
for checking many files of one folder with one listing; empty when there is no such
folder.
*/
export async function namesIn(folder: string): Promise<ReadonlyMap<string, 'file' | 'link'>> {
	let entries: Dirent[];
	try {
		entries = await readdir(folder, {withFileTypes: true});
	} catch {
		return new Map();
	}

	const names = new Map<string, 'file' | 'link'>();
	for (const entry of entries) {
		if (entry.isFile()) {
			names.set(entry.name, 'file');
		} else if (entry.isSymbolicLink()) {
			names.set(entry.name, 'link');
		}
	}

	return names;
}
