/**
Moving verified files into the served tree. Every file arrives by rename from the
mirror's temp folder (same filesystem), so a reader sees either nothing or the whole
file, and an artifact only ever appears after its own sidecars. Each file is flushed
before its rename; the folders' own flushes are shared (atomic.ts, directorySyncs)
and the manifest is written only after them (store.ts).
*/
import {rename, rm} from 'node:fs/promises';
import path from 'node:path';
import {type Layout, tempName, treePath} from '../layout.js';
import {fileMode, makeDir, privateDirMode} from '../modes.js';
import type {PublishedFile, VerifiedArtifact} from '../store.js';
import {type DirectorySyncs, settleFile, writeDurable} from './atomic.js';

/** Rename into the tree, making the folder only when it is missing: it is there for all but the first file. */
async function renameInto(source: string, target: string): Promise<void> {
	try {
		await rename(source, target);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw error;
		}

		await makeDir(path.dirname(target));
		await rename(source, target);
	}
}

/**
Publish an artifact and its sidecars.

Order matters to a reader that looks at the tree at any instant:
1. a replaced artifact is removed first, so the old bytes are never next to new sidecars;
2. the sidecars are renamed into place;
3. the artifact is renamed into place last.
A reader therefore never finds an artifact without its sidecars or with another build's.

The three files are flushed together before any rename (concurrent fsyncs share the
filesystem's journal commits). The folder's flush waits for the next manifest write
(`syncs.settle`), which covers every artifact published into it since the last one:
until then a crash can only lose the files, never leave them listed and missing.
*/
export async function publishArtifact(
	mirror: Layout,
	artifact: VerifiedArtifact,
	syncs: DirectorySyncs,
): Promise<void> {
	const target = treePath(mirror, artifact.ref.path);
	const base = path.join(mirror.tmp, tempName(artifact.ref.path));
	const sidecars: Array<[string, Uint8Array]> = [
		['.sha512', artifact.sha512Sidecar],
		['.asc', artifact.ascSidecar],
	];
	await Promise.all([
		...sidecars.map(([extension, data]) => writeDurable(`${base}${extension}`, data, artifact.modified)),
		// Downloaded or staged with whatever mode the umask gave; served 0644.
		settleFile(artifact.partPath, fileMode, artifact.modified),
	]);

	if (artifact.replacing) {
		await rm(target, {force: true});
	}

	await Promise.all(
		sidecars.map(([extension]) => renameInto(`${base}${extension}`, `${target}${extension}`)),
	);
	await rename(artifact.partPath, target);
	syncs.mark(path.dirname(target));
}

/** Publish one small root file (a signing key) from bytes. */
export async function publishRootFile(
	mirror: Layout,
	name: string,
	data: Uint8Array,
	syncs: DirectorySyncs,
): Promise<void> {
	const temp = path.join(mirror.tmp, `${name}.tmp`);
	await makeDir(mirror.tmp, privateDirMode);
	await writeDurable(temp, data);
	await rename(temp, treePath(mirror, name));
	await syncs.request(mirror.root);
}

/**
Publish files in order: each is made durable in the temp folder, then renamed into
place, so a reader sees the whole file or the one it replaces; each directory is
synced once, after its last file (a sync shared with other publishes into it).
*/
export async function publishFiles(
	mirror: Layout,
	files: readonly PublishedFile[],
	syncs: DirectorySyncs,
): Promise<void> {
	const directories = new Set<string>();
	for (const file of files) {
		const target = treePath(mirror, file.relative);
		let source: string;
		if ('partPath' in file.from) {
			source = file.from.partPath;
			await settleFile(source, fileMode, file.modified);
		} else {
			await makeDir(mirror.tmp, privateDirMode);
			source = path.join(mirror.tmp, tempName(file.relative));
			await writeDurable(source, file.from.data, file.modified);
		}

		await renameInto(source, target);
		directories.add(path.dirname(target));
	}

	await Promise.all([...directories].map((directory) => syncs.request(directory)));
}
