/**
Where a sync publishes: a mirror directory (the default) or an object store. Sync
itself only plans, downloads and verifies; what "present", "publish", "lock" and
"record" mean for the store is here. Downloads always go to a local temp folder
first, so that nothing reaches a reader before it is verified whole.
*/
import {readFile, stat} from 'node:fs/promises';
import pLimit from 'p-limit';
import type {ArtifactRef} from '../catalog.js';
import {type Layout, layout, treePath} from '../store/layout.js';
import {type Manifest, readManifest, writeManifest} from '../store/manifest.js';
import type {LeaseOptions} from '../store/s3/lease.js';
import type {S3Location} from '../store/s3/location.js';
import {type RunRecord, recordRun} from '../store/status.js';
import {acquireLock} from './lock.js';
import type {LocalFile} from './plan.js';
import {publishArtifact, publishRootFile, type VerifiedArtifact} from './publish.js';

/** The store side of a sync run. */
export type SyncTarget = {
	/** The mirror as users name it: a directory or `s3://bucket/prefix`. */
	readonly label: string;
	/** A local folder for partial downloads, kept between runs so that they resume. */
	readonly tmp: string;
	/** What the store holds for each wanted artifact. */
	readonly inspect: (wanted: readonly ArtifactRef[]) => Promise<Map<string, LocalFile>>;
	readonly readManifest: () => Promise<{manifest: Manifest; warning?: string}>;
	readonly writeManifest: (manifest: Manifest) => Promise<void>;
	/** Take the store's sync lock (LockHeldError when held); `warn` hears of a dead holder's lock taken over. */
	readonly lock: (warn: (message: string) => void) => Promise<{release(): Promise<void>}>;
	/** Publish a verified artifact: sidecars first, the artifact last. */
	readonly publishArtifact: (artifact: VerifiedArtifact) => Promise<void>;
	readonly readRootFile: (name: string) => Promise<Buffer | undefined>;
	readonly publishRootFile: (name: string, data: Uint8Array) => Promise<void>;
	readonly recordRun: (run: RunRecord) => Promise<void>;
	/** A published file as a local path to verify in place; undefined when the store is remote. */
	readonly localPath: (relative: string) => string | undefined;
	readonly close: () => void;
};

/** Where to sync to. */
export type TargetOptions = {
	readonly dir: string;
	/** Set for an object store; `dir` is then unused. */
	readonly store?: S3Location | undefined;
	/** Lease timing of the object-store lock (tests shorten it). */
	readonly lease?: LeaseOptions | undefined;
};

async function statSize(file: string): Promise<number | undefined> {
	try {
		const info = await stat(file);
		return info.isFile() ? info.size : undefined;
	} catch {
		return undefined;
	}
}

/** The target for a mirror directory. */
export function directoryTarget(mirror: Layout): SyncTarget {
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
						const [size, sha512, asc] = await Promise.all([
							statSize(file),
							statSize(`${file}.sha512`),
							statSize(`${file}.asc`),
						]);
						return [ref.path, {size, sidecars: sha512 !== undefined && asc !== undefined}];
					}),
				),
			);
			return new Map(entries);
		},
		readManifest: () => readManifest(mirror),
		writeManifest: (manifest) => writeManifest(mirror, manifest),
		lock: () => acquireLock(mirror.lock),
		publishArtifact: (artifact) => publishArtifact(mirror, artifact),
		readRootFile: (name) => readFile(treePath(mirror, name)).catch(() => undefined),
		publishRootFile: (name, data) => publishRootFile(mirror, name, data),
		recordRun: (run) => recordRun(mirror, run),
		localPath: (relative) => treePath(mirror, relative),
		close() {},
	};
}

/** Open the target `options` name; an object store is checked for access first. */
export async function openTarget(options: TargetOptions): Promise<SyncTarget> {
	if (options.store) {
		const {openS3Target} = await import('../store/s3/sync-target.js');
		return openS3Target(options.store, options.lease);
	}

	return directoryTarget(layout(options.dir));
}
