/**
Uploading verified files into the served tree. A PUT is atomic for readers, so no
rename is needed; the order is what keeps a reader safe: a replaced artifact is
removed first, its sidecars uploaded next, the artifact last, so a reader never finds
an artifact without its sidecars or next to another build's.
*/
import {rm} from 'node:fs/promises';
import {treeFileHeaders} from '../headers.js';
import type {PublishedFile, VerifiedArtifact} from '../store.js';
import type {S3Store} from './client.js';
import {metadataKeys} from './keys.js';

/**
Publish an artifact and its sidecars; the local part file is removed once uploaded.
`assertHeld` is asked again before the artifact itself: the sidecars took a while,
and the lease may have been lost meanwhile.
*/
export async function publishArtifact(
	store: S3Store,
	artifact: VerifiedArtifact,
	assertHeld: () => void,
): Promise<void> {
	const relative = artifact.ref.path;
	const modified: Record<string, string> = artifact.modified
		? {[metadataKeys.modified]: artifact.modified.toISOString()}
		: {};
	if (artifact.replacing) {
		// Old bytes must never sit next to new sidecars.
		await store.remove(relative);
	}

	for (const [extension, data] of [
		['.sha512', artifact.sha512Sidecar],
		['.asc', artifact.ascSidecar],
	] as const) {
		await store.putBytes(`${relative}${extension}`, data, {
			...treeFileHeaders(`${relative}${extension}`),
			metadata: modified,
		});
	}

	assertHeld();
	await store.putFile(relative, artifact.partPath, {
		...treeFileHeaders(relative),
		metadata: {...modified, [metadataKeys.sha512]: artifact.sha512},
	});
	await rm(artifact.partPath, {force: true});
}

/** Publish one small root file (a signing key) from bytes. */
export async function publishRootFile(store: S3Store, name: string, data: Uint8Array): Promise<void> {
	await store.putBytes(name, data, treeFileHeaders(name));
}

/**
Upload files in order; a PUT replaces an object whole. `assertHeld` is asked before
each, since a large zip may outlast the lease. Local part files are removed once
uploaded.
*/
export async function publishFiles(
	store: S3Store,
	files: readonly PublishedFile[],
	assertHeld: () => void,
): Promise<void> {
	for (const file of files) {
		assertHeld();
		const metadata: Record<string, string> = {
			...(file.modified ? {[metadataKeys.modified]: file.modified.toISOString()} : {}),
			...(file.sha512 ? {[metadataKeys.sha512]: file.sha512} : {}),
		};
		const options = {...treeFileHeaders(file.relative), metadata};
		if ('partPath' in file.from) {
			await store.putFile(file.relative, file.from.partPath, options);
			await rm(file.from.partPath, {force: true});
		} else {
			await store.putBytes(file.relative, file.from.data, options);
		}
	}
}
