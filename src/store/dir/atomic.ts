/**
Writes that readers never see half done: write a temp file in the same filesystem,
flush it, rename it over the target, flush the directory.
*/
import {randomBytes} from 'node:crypto';
import {open, rename, rm} from 'node:fs/promises';
import path from 'node:path';
import {fileMode, makeDir} from '../modes.js';

/** fsync a file or directory by path. Directories cannot be synced on every platform. */
export async function syncPath(target: string): Promise<void> {
	let handle: Awaited<ReturnType<typeof open>> | undefined;
	try {
		handle = await open(target, 'r');
		await handle.sync();
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') {
			throw error;
		}
	} finally {
		await handle?.close();
	}
}

/** Write `data` to `tempPath` (mode 0644 whatever the umask), flushed to disk. */
export async function writeDurable(tempPath: string, data: string | Uint8Array): Promise<void> {
	const handle = await open(tempPath, 'w', fileMode);
	try {
		await handle.chmod(fileMode);
		await handle.writeFile(data);
		await handle.sync();
	} finally {
		await handle.close();
	}
}

/**
Replace `target` with `data` atomically. The temp file goes in `tmpDir` (which must
be on the same filesystem) or, by default, next to the target.
*/
export async function writeFileAtomic(
	target: string,
	data: string | Uint8Array,
	tmpDir?: string,
): Promise<void> {
	const directory = tmpDir ?? path.dirname(target);
	await makeDir(directory);
	await makeDir(path.dirname(target));
	const temp = path.join(directory, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
	try {
		await writeDurable(temp, data);
		await rename(temp, target);
	} catch (error) {
		await rm(temp, {force: true});
		throw error;
	}

	await syncPath(path.dirname(target));
}
