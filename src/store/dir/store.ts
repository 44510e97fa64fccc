/**
The mirror in a directory: files are published by rename from the private temp
folder under `.mirror/`, so a reader sees a file whole or not at all; the lock is a
file with a lease (lock.ts).
*/
import {createReadStream, statSync} from 'node:fs';
import {readFile, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import {setImmediate as nextTurn} from 'node:timers/promises';
import type {LocalFile} from '../../agent/plan.js';
import {MirrorError} from '../../errors.js';
import {removeAbandoned, removePartials} from '../abandoned.js';
import {type Layout, treePath} from '../layout.js';
import {readManifest, writeManifest} from '../manifest.js';
import {makeDir, privateDirMode} from '../modes.js';
import {recordRun} from '../status.js';
import type {LeaseTiming, MirrorStore, StoredFile} from '../store.js';
import {directorySyncs, writeFileAtomic} from './atomic.js';
import {acquireLock, assertUnlocked, type Lock} from './lock.js';
import {publishArtifact, publishFiles, publishRootFile} from './publish.js';
import {namesIn, walkTree} from './walk.js';

/** Artifacts inspected between turns of the event loop. */
const inspectBatch = 256;

/** `statFile` without a promise or a thread pool trip, for many files on a local disk. */
function statFileNow(file: string): StoredFile | undefined {
	try {
		const info = statSync(file, {throwIfNoEntry: false});
		return info?.isFile() ? {size: info.size, modified: info.mtime} : undefined;
	} catch {
		return undefined;
	}
}

async function statFile(file: string): Promise<StoredFile | undefined> {
	try {
		const info = await stat(file);
		return info.isFile() ? {size: info.size, modified: info.mtime} : undefined;
	} catch {
		return undefined;
	}
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
	if (error.code !== 'ENOENT') {
		throw error;
	}
}

/**
The store of a mirror directory; `lease` times its lock. Every write goes through
the held lock's gate, so a signal that releases the lock never cuts one in half.
`flushFolder` fsyncs a folder of the tree (by default syncPath; tests hold it).
*/
export function directoryStore(
	mirror: Layout,
	lease?: LeaseTiming,
	flushFolder?: (directory: string) => Promise<void>,
): MirrorStore {
	const stateFile = (name: string) => path.join(mirror.state, name);
	let held: Lock | undefined;
	const step = <T>(write: () => Promise<T>): Promise<T> => (held ? held.gate.run(write) : write());
	// Folder flushes shared by the files published close together; the manifest waits for them.
	const syncs = directorySyncs(flushFolder);
	return {
		label: mirror.root,
		tmp: mirror.tmp,
		backend: {kind: 'dir', layout: mirror},
		async inspect(wanted) {
			// One listing per folder says which sidecars are there, one stat per artifact on
			// disk gives its size: three stats per artifact were most of a no-op sync. The
			// stats are synchronous, a batch at a time (a promise and a thread pool trip each
			// cost more than the stat of a cached inode), and timers such as the lock's
			// renewal run between batches.
			const listings = new Map<string, Promise<ReadonlyMap<string, 'file' | 'link'>>>();
			const listing = (folder: string) => {
				let names = listings.get(folder);
				if (!names) {
					names = namesIn(folder);
					listings.set(folder, names);
				}

				return names;
			};
			const held = new Map<string, LocalFile>();
			for (let start = 0; start < wanted.length; start += inspectBatch) {
				const batch = wanted.slice(start, start + inspectBatch).map((ref) => {
					const file = treePath(mirror, ref.path);
					return {ref, file, names: listing(path.dirname(file))};
				});
				for (const {ref, file, names} of batch) {
					const listed = await names;
					const isFile = (name: string) => {
						const kind = listed.get(name);
						return kind === 'link'
							? statFileNow(path.join(path.dirname(file), name)) !== undefined
							: kind === 'file';
					};
					const base = path.basename(file);
					held.set(ref.path, {
						size: listed.has(base) ? statFileNow(file)?.size : undefined,
						sidecars: isFile(`${base}.sha512`) && isFile(`${base}.asc`),
					});
				}

				await nextTurn();
			}

			return held;
		},
		readManifest: () => readManifest(mirror),
		writeManifest: (manifest) =>
			step(async () => {
				// What it lists must be durable in the tree first.
				await syncs.settle();
				await writeManifest(mirror, manifest);
			}),
		async lock(warn) {
			const lock = await acquireLock(mirror.lock, {
				ttlMs: lease?.ttlMs,
				renewEveryMs: lease?.renewEveryMs,
				onTakeover: warn,
			});
			try {
				// Made here, with its mode, before sync or import put anything in it.
				await makeDir(mirror.tmp, privateDirMode);
				await removeAbandoned(mirror.tmp, mirror.state);
				if (lock.tookOverLiveHolder) {
					// The holder whose lease ran out may still write to the partial files it has
					// open: unlinked, they take its bytes without touching this run's downloads.
					await removePartials(mirror.tmp);
				}
			} catch (error) {
				// The caller never gets this lock: release it, or it stays held and renewed for good.
				await lock.release();
				throw error;
			}

			held = lock;
			return lock;
		},
		assertUnlocked: () => assertUnlocked(mirror.lock, {ttlMs: lease?.ttlMs}),
		publishArtifact: (artifact) => step(() => publishArtifact(mirror, artifact, syncs)),
		publishFiles: (files) => step(() => publishFiles(mirror, files, syncs)),
		publishRootFile: (name, data) => step(() => publishRootFile(mirror, name, data, syncs)),
		readFile: (relative) => readFile(treePath(mirror, relative)).catch(() => undefined),
		stat: (relative) => statFile(treePath(mirror, relative)),
		async openRead(relative) {
			const file = treePath(mirror, relative);
			if (!(await statFile(file))) {
				throw new MirrorError('ERR_MISSING', `${relative} is not in ${mirror.root}`);
			}

			return createReadStream(file, {highWaterMark: 1024 * 1024});
		},
		listTree: () => walkTree(mirror.root),
		remove: (relative) => step(() => rm(treePath(mirror, relative), {force: true})),
		quarantine(stamp) {
			const folder = path.join(mirror.state, 'quarantine', stamp);
			const inside = (relative: string) => path.join(folder, ...relative.split('/'));
			return {
				where: folder,
				move: (relative) =>
					step(async () => {
						await makeDir(path.dirname(inside(relative)));
						await rename(treePath(mirror, relative), inside(relative)).catch(ignoreMissing);
					}),
				discard: (relative) => rm(inside(relative), {force: true}),
			};
		},
		readState: (name) => readFile(stateFile(name), 'utf8').catch(() => undefined),
		writeState: (name, text) => step(() => writeFileAtomic(stateFile(name), text, mirror.state)),
		recordRun: (run) => step(() => recordRun(mirror, run)),
		local: true,
		close() {},
	};
}
