/**
Symbolic links in the tree are never followed by serve: not as files, not as folders,
not in listings, wherever they point (out of the tree, into its hidden state, or to
another file of it). Sync never makes links, so a link is something put there by hand
or by a tool, and following it would serve whatever it names (`/etc/passwd`,
`.mirror/manifest.json`). The mirror directory itself may be a link: only what is
below it counts.

Two checks: the path must resolve to itself (no link in any component), and a file
opened for serving must be the one at that path (its descriptor's path, where the
system tells it), which closes the window between the check and the open.
*/
import {type BigIntStats, lstatSync, readlinkSync, realpathSync} from 'node:fs';
import path from 'node:path';

/** What a lookup that finds nothing (or a link loop) raises. */
const missingCodes = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

/**
The real path of `segments` below `root`, or undefined when it does not exist or any
component below `root` is a link. Synchronous on purpose: a few microseconds on a
local disk, less than a round trip through the thread pool.
*/
export function resolveInTree(root: string, segments: readonly string[]): string | undefined {
	try {
		const realRoot = realpathSync.native(root);
		const expected = path.join(realRoot, ...segments);
		return realpathSync.native(path.join(root, ...segments)) === expected ? expected : undefined;
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

/**
The lstat of `segments` below `root` when no folder on the way below `root` is a link,
else undefined (missing, or a link on the way). What `resolveInTree` checks, in one
lstat per segment rather than a readlink per component from `/`: the last one is the
lstat the caller needs anyway (a link there is neither file nor folder).
*/
export function statInTree(root: string, segments: readonly string[]): BigIntStats | undefined {
	try {
		let at = root;
		const last = segments.length - 1;
		for (let index = 0; index < last; index++) {
			at = `${at}/${segments[index]}`;
			if (!lstatSync(at, {throwIfNoEntry: false})?.isDirectory()) {
				return undefined;
			}
		}

		return lstatSync(last < 0 ? root : `${at}/${segments[last]}`, {bigint: true, throwIfNoEntry: false});
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

/**
Whether the open descriptor `fd` is the file at the real path `file`. Where the system
does not say (no /proc), the check of `resolveInTree` before the open stands alone. A
file renamed over since the open still counts: its reader keeps the bytes it opened.
*/
export function isOpenAt(fd: number, file: string): boolean {
	let opened: string;
	try {
		opened = readlinkSync(`/proc/self/fd/${fd}`);
	} catch {
		return true;
	}

	return opened === file || opened === `${file} (deleted)`;
}
