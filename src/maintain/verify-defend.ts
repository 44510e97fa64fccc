/**
verify for Elastic Defend protections: each listed manifest zip and artifact
re-checked at rest as sync checked it on the way in. A manifest zip must have the
size and sha512 the manifest records, hold a manifest.json that parses, and name
only artifacts the mirror lists with the same digests; an artifact must have its
size and sha512, then match its encoded and decoded sha256. Each file is copied into
the scratch folder first (hashed on the way), since the checks need a local file
and a bucket has none. Repair moves bad files out: an artifact takes the manifests
naming it along (writer.quarantineDefend), so no served manifest names a missing
file, and the versions whose manifest went are fetched again.
*/
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {checkDefendArtifact, readDefendManifestZip} from '../defend/verify.js';
import {describeError} from '../errors.js';
import type {MirrorWriter} from '../mirror/writer.js';
import {copyOut} from '../store/copy-out.js';
import type {DefendArtifactEntry, DefendVersionEntry, ManifestView} from '../store/manifest.js';
import type {MirrorStore, Quarantine} from '../store/store.js';

/** One check to run: the file it is about, and the problem it finds (undefined: none). */
export type DefendCheck = {readonly path: string; readonly run: () => Promise<string | undefined>};

let copies = 0;

/**
Copy a tree file into `scratch` after checking its size and sha512, and run `check` on
the copy, which is removed after: resolves with the first problem found, or undefined.
*/
async function checkCopy(
	store: MirrorStore,
	entry: {path: string; size: number; sha512: string},
	scratch: string,
	check: (local: string) => Promise<string | undefined>,
): Promise<string | undefined> {
	const info = await store.stat(entry.path);
	if (!info) {
		return 'missing from the tree';
	}

	if (info.size !== entry.size) {
		return `size is ${info.size}, the manifest says ${entry.size}`;
	}

	copies++;
	const local = path.join(scratch, `defend-${copies}-${path.posix.basename(entry.path)}`);
	try {
		if ((await copyOut(store, entry.path, local)).sha512 !== entry.sha512) {
			return 'sha512 differs from the manifest (the file changed after it was published)';
		}

		return await check(local);
	} finally {
		await rm(local, {force: true});
	}
}

async function checkVersion(
	store: MirrorStore,
	entry: DefendVersionEntry,
	listed: ManifestView['defend']['artifacts'],
	scratch: string,
): Promise<string | undefined> {
	return checkCopy(store, entry, scratch, async (local) => {
		const manifest = await readDefendManifestZip(local, entry.path);
		const names = manifest.artifacts.map((ref) => ref.path).sort();
		// prune trusts the listing to know what a manifest names: it must be the zip's own list.
		if (names.join('\n') !== [...entry.artifacts].sort().join('\n')) {
			return 'the manifest lists other artifacts for it than its manifest.json names';
		}

		for (const ref of manifest.artifacts) {
			const artifact = listed[ref.path];
			if (!artifact) {
				return `names ${ref.path}, which the mirror does not list`;
			}

			if (artifact.encodedSha256 !== ref.encodedSha256 || artifact.size !== ref.encodedSize) {
				return `names ${ref.path} with other digests than the mirror lists for it`;
			}
		}

		return undefined;
	});
}

async function checkArtifact(
	store: MirrorStore,
	entry: DefendArtifactEntry,
	scratch: string,
): Promise<string | undefined> {
	return checkCopy(store, entry, scratch, async (local) => {
		await checkDefendArtifact(local, {
			identifier: entry.path,
			encodedSize: entry.size,
			...entry,
			encryption: entry.encryption ?? 'none',
		});
		return undefined;
	});
}

/** Whether the manifest lists any Defend content (verify needs a scratch folder then). */
export function holdsDefend(manifest: ManifestView): boolean {
	return Object.keys(manifest.defend.versions).length + Object.keys(manifest.defend.artifacts).length > 0;
}

/** The checks of every listed Defend manifest zip and artifact, sorted by path. */
export function defendChecks(store: MirrorStore, manifest: ManifestView, scratch: string): DefendCheck[] {
	const guard = (run: () => Promise<string | undefined>) => () =>
		run().catch((error: unknown) => describeError(error));
	return [
		...Object.values(manifest.defend.versions).map((entry) => ({
			path: entry.path,
			run: guard(() => checkVersion(store, entry, manifest.defend.artifacts, scratch)),
		})),
		...Object.values(manifest.defend.artifacts).map((entry) => ({
			path: entry.path,
			run: guard(() => checkArtifact(store, entry, scratch)),
		})),
	].sort((a, b) => a.path.localeCompare(b.path));
}

/**
Move bad Defend files (manifest zips or artifacts) into `quarantine`, each with the
manifests naming it. Resolves with the versions whose manifest went (to fetch again)
and every file moved.
*/
export async function quarantineDefendFiles(
	writer: MirrorWriter,
	bad: readonly string[],
	quarantine: Quarantine,
): Promise<{versions: string[]; moved: string[]}> {
	const versions = new Set<string>();
	const moved = new Set<string>();
	for (const file of bad) {
		for (const entry of Object.values(writer.manifest.defend.versions)) {
			if (entry.path === file || entry.artifacts.includes(file)) {
				versions.add(entry.version);
				moved.add(entry.path);
			}
		}

		await writer.quarantineDefend(file, quarantine);
		moved.add(file);
	}

	return {versions: [...versions].sort(), moved: [...moved].sort()};
}
