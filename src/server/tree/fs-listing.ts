/** The entries of a folder of the mirror directory, as listings show them. */
import type {Dirent} from 'node:fs';
import {lstat, readdir} from 'node:fs/promises';
import path from 'node:path';
import type {ListingEntry} from '../views/listing.js';
import {sortListing} from './listing.js';

/**
The visible files and folders of the real path `folder` (no links, nothing hidden),
sorted; undefined when it is not a folder.
*/
export async function readListing(folder: string): Promise<ListingEntry[] | undefined> {
	let dirents: Dirent[];
	try {
		dirents = await readdir(folder, {withFileTypes: true});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR') {
			return undefined;
		}

		throw error;
	}

	const entries = await Promise.all(
		dirents
			.filter((dirent) => !dirent.name.startsWith('.') && (dirent.isFile() || dirent.isDirectory()))
			.map(async (dirent): Promise<ListingEntry | undefined> => {
				try {
					// Not followed: an entry replaced by a link since readdir is left out.
					const info = await lstat(path.join(folder, dirent.name));
					if (!info.isFile() && !info.isDirectory()) {
						return undefined;
					}

					return {
						name: dirent.name,
						type: info.isDirectory() ? 'directory' : 'file',
						size: info.isDirectory() ? undefined : info.size,
						modified: info.mtime.toISOString(),
					};
				} catch {
					// Removed between readdir and stat (a prune or a replace): leave it out.
					return undefined;
				}
			}),
	);
	return sortListing(entries.filter((entry): entry is ListingEntry => entry !== undefined));
}
