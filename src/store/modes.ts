/**
The modes the mirror gives what it creates, set explicitly rather than left to the
umask: under `umask 000` a mirror would otherwise be world-writable (0666 files, 0777
folders, `.mirror/` included), and under `umask 077` unreadable by a server running
as another user. Served files and the state the server reads (manifest, status,
lock) are 0644 in 0755 folders; the temp folder (partial downloads, import staging)
is the mirror's own business, 0700.
*/
import {chmod, lstat, mkdir} from 'node:fs/promises';
import path from 'node:path';
import {UsageError} from '../errors.js';

/** Files the server reads. */
export const fileMode = 0o644;
/** Folders of the tree and of `.mirror/`. */
export const dirMode = 0o755;
/** Folders nobody else has any business in. */
export const privateDirMode = 0o700;

/**
`mkdir -p` that gives `dir` the mode `mode` and every parent it creates `dirMode`,
whatever the umask. Folders that already exist keep their mode.
*/
export async function makeDir(dir: string, mode: number = dirMode): Promise<void> {
	const target = path.resolve(dir);
	const first = await mkdir(target, {recursive: true});
	if (first === undefined) {
		return;
	}

	for (let current = target; ; current = path.dirname(current)) {
		await chmod(current, current === target ? mode : dirMode);
		if (current === path.resolve(first) || current === path.dirname(current)) {
			break;
		}
	}
}

/**
The private temp folder `dir` (0700), refused when it is not a folder of this user: a
folder under the shared /tmp that another user made first (or a link planted there)
would let that user change bytes between their check and their upload.
*/
export async function makePrivateDir(dir: string): Promise<void> {
	await makeDir(dir, privateDirMode);
	const info = await lstat(dir);
	const uid = process.getuid?.();
	if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
		throw new UsageError(
			`the temp folder ${dir} is not a folder of this user (owner uid ${info.uid}); remove it or set TMPDIR`,
		);
	}

	if ((info.mode & 0o777) !== privateDirMode) {
		await chmod(dir, privateDirMode);
	}
}
