/**
Writes that readers never see half done: write a temp file in the same filesystem,
flush it, rename it over the target, flush the directory. Directory flushes can be
shared: renames into one folder are made durable by one fsync of it (directorySyncs),
as long as whatever lists them waits for that fsync.
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

/**
Give a finished file (a download in the temp folder) `mode` and, when known, the date
`modified`, then flush it: one open for the three, so the date and mode are in the
same flush as the bytes.
*/
export async function settleFile(file: string, mode: number, modified?: Date | undefined): Promise<void> {
	const handle = await open(file, 'r');
	try {
		await handle.chmod(mode);
		if (modified) {
			await handle.utimes(modified, modified);
		}

		await handle.sync();
	} finally {
		await handle.close();
	}
}

/**
Write `data` to `tempPath` (mode 0644 whatever the umask, dated `modified` when
given), flushed to disk.
*/
export async function writeDurable(
	tempPath: string,
	data: string | Uint8Array,
	modified?: Date | undefined,
): Promise<void> {
	const handle = await open(tempPath, 'w', fileMode);
	try {
		await handle.chmod(fileMode);
		await handle.writeFile(data);
		// After the write, which would move the date again.
		if (modified) {
			await handle.utimes(modified, modified);
		}

		await handle.sync();
	} finally {
		await handle.close();
	}
}

/** Shared directory flushes: see directorySyncs. */
export type DirectorySyncs = {
	/**
	Resolves once an fsync of `directory` that began after this call has finished, so
	that every rename into it done before the call is durable. Calls close together
	share one fsync.
	*/
	request(directory: string): Promise<void>;
	/**
	Note renames into `directory` that may wait for the next settle to be flushed: the
	folder is flushed once then, however many files went into it meanwhile.
	*/
	mark(directory: string): void;
	/**
	Flush every folder marked since the last settle, and wait for those fsyncs and
	every one requested before this call; rejects with the first that failed since
	the last settle. What lists files (the manifest) is written after it.
	*/
	settle(): Promise<void>;
};

/**
Directory fsyncs shared between the renames that need them. One fsync per folder runs
at a time; the renames that land while it runs share the next one. Renames that can
wait (mark) are flushed at the next settle, once per folder: N files published into
one folder between two manifest writes cost one fsync of it, not N. `flush` flushes
one folder (syncPath; tests count the calls).
*/
export function directorySyncs(flush: (directory: string) => Promise<void> = syncPath): DirectorySyncs {
	const marked = new Set<string>();
	type Folder = {running: Promise<void>; next: Promise<void> | undefined};
	const folders = new Map<string, Folder>();
	const pending = new Set<Promise<void>>();
	let failure: unknown;
	const request = (directory: string): Promise<void> => {
		const folder = folders.get(directory);
		if (folder?.next) {
			return folder.next;
		}

		const previous = folder?.running ?? Promise.resolve();
		const entry: Folder = folder ?? {running: previous, next: undefined};
		// The fsync begins only once the one running has ended: renames made meanwhile are its.
		const sync = previous
			.catch(() => undefined)
			.then(() => {
				entry.next = undefined;
				return flush(directory);
			});
		entry.next = sync;
		entry.running = sync;
		folders.set(directory, entry);
		pending.add(sync);
		const done = () => {
			pending.delete(sync);
			if (entry.running === sync && entry.next === undefined) {
				folders.delete(directory);
			}
		};
		sync.then(done, (error: unknown) => {
			failure ??= error;
			done();
		});
		return sync;
	};

	return {
		request,
		mark(directory) {
			marked.add(directory);
		},
		async settle() {
			for (const directory of marked) {
				void request(directory);
			}

			marked.clear();
			await Promise.allSettled([...pending]);
			if (failure !== undefined) {
				const error = failure;
				failure = undefined;
				throw error;
			}
		},
	};
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
