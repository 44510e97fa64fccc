/**
The mirror a command works on: a mirror directory (the default) or an object store.
Sync, verify, prune, export and import only plan, download, check and bundle; what
"present", "read", "publish", "remove", "lock" and "record" mean for the store is
here. Downloads and imports always land in a local temp folder first, so that
nothing reaches a reader before it is verified whole.
*/
import {createReadStream} from 'node:fs';
import {readFile, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import type {Readable} from 'node:stream';
import pLimit from 'p-limit';
import type {ArtifactRef} from '../agent/catalog.js';
import type {LocalFile} from '../agent/plan.js';
import {MirrorError, UsageError} from '../errors.js';
import {removeAbandoned, removePartials} from './abandoned.js';
import {writeFileAtomic} from './atomic.js';
import {acquireLock, assertUnlocked, type Lock} from './dir/lock.js';
import {publishArtifact, publishRootFile, type VerifiedArtifact} from './dir/publish.js';
import {type Layout, layout, treePath} from './layout.js';
import {type Manifest, readManifest, writeManifest} from './manifest.js';
import {makeDir, privateDirMode} from './modes.js';
import type {LeaseOptions} from './s3/lease.js';
import type {S3Location} from './s3/location.js';
import {type RunRecord, recordRun} from './status.js';
import {type TreeEntry, walkTree} from './walk.js';

/** What the store says about one published file. */
export type StoredFile = {
	readonly size: number;
	/** Upstream's Last-Modified where it was kept, else when the store got the file. */
	readonly modified: Date;
};

/** Files moved out of the served tree, kept apart for a person to look at. */
export type Quarantine = {
	/** Where they go, as a user would look for them (a folder, or an s3:// prefix). */
	readonly where: string;
	/** Move one file (a tree path) there; a file already gone is skipped. */
	readonly move: (relative: string) => Promise<void>;
	/** Forget a moved file (it was fetched again). */
	readonly discard: (relative: string) => Promise<void>;
};

/** The lock a target gives its writer. */
export type HeldLock = {
	/** Throw ERR_LOCK_LOST once this process may no longer write (released, lost, or its lease ran out). */
	assertHeld(): void;
	release(): Promise<void>;
};

/** The store side of sync and of the maintenance commands. Paths are tree paths (`downloads/...`). */
export type MirrorTarget = {
	/** The mirror as users name it: a directory or `s3://bucket/prefix`. */
	readonly label: string;
	/** A local folder for partial downloads and staging, kept between runs so that downloads resume. */
	readonly tmp: string;
	/** What the store holds for each wanted artifact. */
	readonly inspect: (wanted: readonly ArtifactRef[]) => Promise<Map<string, LocalFile>>;
	readonly readManifest: () => Promise<{manifest: Manifest; warning?: string}>;
	readonly writeManifest: (manifest: Manifest) => Promise<void>;
	/**
	Take the store's sync lock (LockHeldError when held); `warn` hears of a dead holder's
	lock taken over. Staging left by a killed import is removed once the lock is held.
	*/
	readonly lock: (warn: (message: string) => void) => Promise<HeldLock>;
	/**
	For commands that only read: LockHeldError while a live holder has the lock; takes
	nothing. Resolves with a line about a dead holder's lock, if one is left.
	*/
	readonly assertUnlocked: () => Promise<string | undefined>;
	/** Publish a verified artifact: sidecars first, the artifact last. */
	readonly publishArtifact: (artifact: VerifiedArtifact) => Promise<void>;
	readonly publishRootFile: (name: string, data: Uint8Array) => Promise<void>;
	/** A whole small file (sidecar, key), or undefined when missing. */
	readonly readFile: (relative: string) => Promise<Buffer | undefined>;
	/** Size and date of a file, or undefined when missing. */
	readonly stat: (relative: string) => Promise<StoredFile | undefined>;
	/** A file's bytes as a stream; throws ERR_MISSING when it is not there. */
	readonly openRead: (relative: string) => Promise<Readable>;
	/** Every file of the served tree (`.mirror/` left out), links reported and not followed. */
	readonly listTree: () => AsyncIterable<TreeEntry>;
	/** Delete a file (or a link) from the tree; a missing file is not an error. */
	readonly remove: (relative: string) => Promise<void>;
	/** A quarantine named `stamp` (a timestamp), out of the served tree. */
	readonly quarantine: (stamp: string) => Quarantine;
	/** A small JSON document of the mirror's own state (`export.json`), or undefined. */
	readonly readState: (name: 'export.json') => Promise<string | undefined>;
	readonly writeState: (name: 'export.json', text: string) => Promise<void>;
	readonly recordRun: (run: RunRecord) => Promise<void>;
	/** A published file as a local path to verify in place; undefined when the store is remote. */
	readonly localPath: (relative: string) => string | undefined;
	readonly close: () => void;
};

/** Which mirror: `dir`, or the object store `store` when set. */
export type TargetOptions = {
	readonly dir: string;
	/** Set for an object store; `dir` is then unused. */
	readonly store?: S3Location | undefined;
	/** Lease timing of the object-store lock (tests shorten it). */
	readonly lease?: LeaseOptions | undefined;
};

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
The target for a mirror directory; `lease` times its lock. Every write goes through
the held lock's gate, so a signal that releases the lock never cuts one in half.
*/
export function directoryTarget(mirror: Layout, lease?: LeaseOptions): MirrorTarget {
	const stateFile = (name: string) => path.join(mirror.state, name);
	let held: Lock | undefined;
	const step = <T>(write: () => Promise<T>): Promise<T> => (held ? held.gate.run(write) : write());
	return {
		label: mirror.root,
		tmp: mirror.tmp,
		async inspect(wanted) {
			// One stat per file of every wanted artifact.
			const limit = pLimit(64);
			const entries = await Promise.all(
				wanted.map((ref) =>
					limit(async (): Promise<[string, LocalFile]> => {
						const file = treePath(mirror, ref.path);
						const [artifact, sha512, asc] = await Promise.all([
							statFile(file),
							statFile(`${file}.sha512`),
							statFile(`${file}.asc`),
						]);
						return [ref.path, {size: artifact?.size, sidecars: sha512 !== undefined && asc !== undefined}];
					}),
				),
			);
			return new Map(entries);
		},
		readManifest: () => readManifest(mirror),
		writeManifest: (manifest) => step(() => writeManifest(mirror, manifest)),
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
		publishArtifact: (artifact) => step(() => publishArtifact(mirror, artifact)),
		publishRootFile: (name, data) => step(() => publishRootFile(mirror, name, data)),
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
		localPath: (relative) => treePath(mirror, relative),
		close() {},
	};
}

/**
Open the target `options` name; an object store is checked for access first. With
`mustExist` (commands that do not create a mirror), a directory that does not exist
is a UsageError, and nothing is created.
*/
export async function openTarget(options: TargetOptions, {mustExist = false} = {}): Promise<MirrorTarget> {
	if (options.store) {
		const {openS3Target} = await import('./s3/target.js');
		return openS3Target(options.store, options.lease);
	}

	const mirror = layout(options.dir);
	if (mustExist) {
		const info = await stat(mirror.root).catch(() => undefined);
		if (!info?.isDirectory()) {
			throw new UsageError(
				`no mirror at ${mirror.root}: ${info ? 'it is not a directory' : 'the directory does not exist'} (check --dir)`,
			);
		}
	}

	return directoryTarget(mirror, options.lease);
}

/**
Run `work` on the target without taking its lock, for commands that only read:
LockHeldError while a live sync holds the lock; `warn` hears of a dead holder's
lock left behind. A missing mirror directory is a UsageError. Nothing is created or
written, so a read-only mirror works.
*/
export async function withReadTarget<T>(
	options: TargetOptions,
	warn: (message: string) => void,
	work: (target: MirrorTarget) => Promise<T>,
): Promise<T> {
	const target = await openTarget(options, {mustExist: true});
	try {
		const left = await target.assertUnlocked();
		if (left) {
			warn(left);
		}

		return await work(target);
	} finally {
		target.close();
	}
}

/**
Run `work` with the target open and its sync lock held; `warn` hears of a dead
holder's lock taken over. The lock is released and the target closed however
`work` ends. With `mustExist`, a missing mirror directory is a UsageError.
*/
export async function withLockedTarget<T>(
	options: TargetOptions,
	warn: (message: string) => void,
	work: (target: MirrorTarget) => Promise<T>,
	{mustExist = false} = {},
): Promise<T> {
	const target = await openTarget(options, {mustExist});
	try {
		const lock = await target.lock(warn);
		try {
			return await work(target);
		} finally {
			await lock.release();
		}
	} finally {
		target.close();
	}
}
