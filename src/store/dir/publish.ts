/**
Moving verified files into the served tree. Every file arrives by rename from the
mirror's temp folder (same filesystem), so a reader sees either nothing or the whole
file, and an artifact only ever appears after its own sidecars.
*/
import {chmod, rename, rm, utimes} from 'node:fs/promises';
import path from 'node:path';
import {type Layout, tempName, treePath} from '../layout.js';
import {fileMode, makeDir, privateDirMode} from '../modes.js';
import type {PublishedFile, VerifiedArtifact} from '../store.js';
import {syncPath, writeDurable} from './atomic.js';

/**
Publish an artifact and its sidecars.

Order matters to a reader that looks at the tree at any instant:
1. a replaced artifact is removed first, so the old bytes are never next to new sidecars;
2. the sidecars are renamed into place;
3. the artifact is renamed into place last.
A reader therefore never finds an artifact without its sidecars or with another build's.
*/
export async function publishArtifact(mirror: Layout, artifact: VerifiedArtifact): Promise<void> {
	const target = treePath(mirror, artifact.ref.path);
	const directory = path.dirname(target);
	await makeDir(directory);

	const base = path.join(mirror.tmp, tempName(artifact.ref.path));
	const sidecars: Array<[string, Uint8Array]> = [
		['.sha512', artifact.sha512Sidecar],
		['.asc', artifact.ascSidecar],
	];
	for (const [extension, data] of sidecars) {
		await writeDurable(`${base}${extension}`, data);
	}

	// Downloaded or staged with whatever mode the umask gave; served 0644.
	await chmod(artifact.partPath, fileMode);
	await syncPath(artifact.partPath);
	if (artifact.modified) {
		for (const file of [artifact.partPath, ...sidecars.map(([extension]) => `${base}${extension}`)]) {
			await utimes(file, artifact.modified, artifact.modified);
		}
	}

	if (artifact.replacing) {
		await rm(target, {force: true});
	}

	for (const [extension] of sidecars) {
		await rename(`${base}${extension}`, `${target}${extension}`);
	}

	await rename(artifact.partPath, target);
	await syncPath(directory);
}

/** Publish one small root file (a signing key) from bytes. */
export async function publishRootFile(mirror: Layout, name: string, data: Uint8Array): Promise<void> {
	const temp = path.join(mirror.tmp, `${name}.tmp`);
	await makeDir(mirror.tmp, privateDirMode);
	await writeDurable(temp, data);
	await rename(temp, treePath(mirror, name));
	await syncPath(mirror.root);
}

/**
Publish files in order: each is made durable in the temp folder, then renamed into
place, so a reader sees the whole file or the one it replaces; each directory is
synced once, after its last file.
*/
export async function publishFiles(mirror: Layout, files: readonly PublishedFile[]): Promise<void> {
	const directories = new Set<string>();
	for (const file of files) {
		const target = treePath(mirror, file.relative);
		await makeDir(path.dirname(target));
		let source: string;
		if ('partPath' in file.from) {
			source = file.from.partPath;
			await chmod(source, fileMode);
			await syncPath(source);
		} else {
			await makeDir(mirror.tmp, privateDirMode);
			source = path.join(mirror.tmp, tempName(file.relative));
			await writeDurable(source, file.from.data);
		}

		if (file.modified) {
			await utimes(source, file.modified, file.modified);
		}

		await rename(source, target);
		directories.add(path.dirname(target));
	}

	for (const directory of directories) {
		await syncPath(directory);
	}
}
