/**
Where things live inside a mirror directory. The served tree has exactly the
upstream's paths; everything of the mirror's own lives under one hidden folder
that the server never serves.
*/
import {createHash} from 'node:crypto';
import path from 'node:path';

/** The hidden folder for the mirror's own state. */
export const stateFolder = '.mirror';

/** Paths inside one mirror directory. */
export type Layout = {
	readonly root: string;
	readonly state: string;
	/** Downloads in progress; same filesystem as the tree, so publishing is a rename. */
	readonly tmp: string;
	readonly manifest: string;
	readonly status: string;
	readonly lock: string;
	/** When the last export started, for `export --since last`. */
	readonly exportState: string;
};

/** The layout of the mirror rooted at `root`. */
export function layout(root: string): Layout {
	const absolute = path.resolve(root);
	const state = path.join(absolute, stateFolder);
	return {
		root: absolute,
		state,
		tmp: path.join(state, 'tmp'),
		manifest: path.join(state, 'manifest.json'),
		status: path.join(state, 'status.json'),
		lock: path.join(state, 'sync.lock'),
		exportState: path.join(state, 'export.json'),
	};
}

/** The absolute path of a tree path (`downloads/...`). */
export function treePath(mirror: Layout, relative: string): string {
	return path.join(mirror.root, ...relative.split('/'));
}

/**
A stable temp name for a tree path, so that a later run finds and resumes the
partial download of the same file. Hashed so that any tree path maps to one flat
name in the temp folder.
*/
export function tempName(relative: string): string {
	const digest = createHash('sha256').update(relative).digest('hex').slice(0, 16);
	return `${digest}-${path.posix.basename(relative)}`;
}
