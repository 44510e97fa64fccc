/**
verify: re-check everything the mirror serves, the way sync checked it on the way
in (size, sha512 against the manifest and the `.sha512` line, PGP signature against
the trusted keys, key files hold only trusted keys, package versions as
verify-packages.ts checks them, Defend manifests and artifacts as verify-defend.ts
does, image blobs and tags as verify-images.ts does). With repair, bad artifacts,
package versions, Defend files and image blobs are moved out of the served tree
into a quarantine folder and fetched again.
Over 300 lines because it is the one sequence of every collection's checks and repairs.
*/
import pLimit from 'p-limit';
import {type ArtifactRef, classifyPath, keyFiles} from '../agent/catalog.js';
import {describeError} from '../errors.js';
import type {EventSink} from '../mirror/events.js';
import {openWriter} from '../mirror/writer.js';
import type {ManifestEntry} from '../store/manifest.js';
import {withLockedStore, withReadStore} from '../store/open.js';
import type {MirrorStore, StoreOptions} from '../store/store.js';
import {checkKeyFile, loadTrustedKeys, type TrustedKeys} from '../trust/keys.js';
import {inspectArtifact} from '../trust/verify-artifact.js';
import {type RefetchOptions, refetchQuarantined} from './repair.js';
import {checkTree, type Problem} from './unknown.js';
import {defendChecks, holdsDefend, quarantineDefendFiles} from './verify-defend.js';
import {type ImageCheck, imageChecks, quarantineImageFiles} from './verify-images.js';
import {checkPackage, packageScratch} from './verify-packages.js';

export type {Problem} from './unknown.js';

/** What verify found and did. */
export type VerifyReport = {
	readonly checked: number;
	/** How many of `checked` were package versions (each its zip, signature and info). */
	readonly checkedPackages: number;
	/** How many of `checked` were Defend manifest zips and artifacts. */
	readonly checkedDefend: number;
	/** How many of `checked` were image blobs and tags. */
	readonly checkedImages: number;
	readonly problems: readonly Problem[];
	/** Artifacts and package versions (zip paths) fetched again and verified. */
	readonly repaired: readonly string[];
	/** Links verify --repair removed from the tree (what they pointed to is untouched). */
	readonly removed: readonly string[];
	/** Artifacts moved out of the tree that could not be fetched again (folder given). */
	readonly quarantined: readonly string[];
	/** Package versions (zip paths) moved out of the tree that could not be fetched again. */
	readonly quarantinedPackages: readonly string[];
	/** Defend files (manifest zips and artifacts) moved out of the tree that could not be fetched again. */
	readonly quarantinedDefend: readonly string[];
	/** Image blobs moved out of the tree whose tags could not all be fetched again. */
	readonly quarantinedImages: readonly string[];
	/** Where quarantined files are: a folder, or an s3:// prefix. */
	readonly quarantineDir: string | undefined;
};

/** Options: sync's options give the mirror and the trusted keys. */
export type VerifyOptions = {
	readonly sync: StoreOptions & {readonly trustedKeyPaths: readonly string[]};
	readonly repair: boolean;
	/** Fetch these quarantined artifacts and package versions again, verified (--repair); rejects when that sync cannot run. */
	readonly refetch: RefetchOptions['refetch'];
	readonly onChecked?: ((done: number, total: number) => void) | undefined;
};

async function checkArtifact(
	store: MirrorStore,
	entry: ManifestEntry,
	trusted: TrustedKeys,
): Promise<string | undefined> {
	try {
		const info = await store.stat(entry.path);
		if (!info) {
			return 'missing from the tree';
		}

		if (info.size !== entry.size) {
			return `size is ${info.size}, the manifest says ${entry.size}`;
		}

		const [sidecar, asc] = await Promise.all([
			store.readFile(`${entry.path}.sha512`).then((data) => data?.toString('utf8')),
			store.readFile(`${entry.path}.asc`).then((data) => data?.toString('utf8')),
		]);
		const {digests, broken} = await inspectArtifact(
			{
				fileName: entry.path.slice(entry.path.lastIndexOf('/') + 1),
				sha512Sidecar: sidecar,
				ascSidecar: asc,
				source: () => store.openRead(entry.path),
			},
			trusted,
		);
		// The manifest comes first: a file changed after publishing breaks every rule after it.
		if (digests.sha512 !== entry.sha512) {
			return `sha512 differs from the manifest (the file changed after it was published)`;
		}

		switch (broken?.rule) {
			case undefined: {
				return undefined;
			}

			case 'sha512-line': {
				return sidecar === undefined ? '.sha512 is missing' : describeError(broken.error);
			}

			case 'sha512': {
				return '.sha512 does not match the file';
			}

			case 'signature': {
				return asc === undefined ? '.asc is missing' : describeError(broken.error);
			}
		}
	} catch (error) {
		return describeError(error);
	}
}

/** Check the whole mirror; repair when asked. */
export async function verifyMirror(
	options: VerifyOptions,
	emit: EventSink = () => undefined,
): Promise<VerifyReport> {
	const trusted = await loadTrustedKeys(options.sync.trustedKeyPaths);
	const warn = (message: string) => emit({type: 'warning', message});
	const stamp = new Date().toISOString().replaceAll(':', '-');
	const problems: Problem[] = [];
	const bad: ArtifactRef[] = [];
	const badPackages: string[] = [];
	const badDefend: string[] = [];
	let movedDefend: {versions: string[]; moved: string[]} = {versions: [], moved: []};
	const badBlobs: string[] = [];
	const badTags: Array<{repository: string; tag: string}> = [];
	let movedImages: {tags: string[]; moved: string[]} = {tags: [], moved: []};
	const removed: string[] = [];
	let checked = 0;
	let checkedPackages = 0;
	let checkedDefend = 0;
	let checkedImages = 0;
	const check = async (store: MirrorStore): Promise<string | undefined> => {
		const {writer, warning} = await openWriter(store);
		const {manifest} = writer;
		if (warning) {
			problems.push({path: '.mirror/manifest.json', problem: warning});
		}

		const entries = Object.values(manifest.files).sort((a, b) => a.path.localeCompare(b.path));
		const versions = Object.values(manifest.packages).sort((a, b) => a.path.localeCompare(b.path));
		const scratch = versions.length > 0 || holdsDefend(manifest) ? await packageScratch(store) : undefined;
		const defend = scratch ? defendChecks(store, manifest, scratch.dir) : [];
		const images = imageChecks(store, manifest);
		const total = entries.length + versions.length + defend.length + images.length;
		const limit = pLimit(4);
		try {
			const tasks = [
				...entries.map((entry) => ({
					path: entry.path,
					kind: 'artifact',
					run: () => checkArtifact(store, entry, trusted),
				})),
				...versions.map((entry) => ({
					path: entry.path,
					kind: 'package',
					run: () => checkPackage(store, entry, trusted, scratch?.dir as string),
				})),
				...defend.map((check) => ({...check, kind: 'defend'})),
				...images.map((check) => ({...check, kind: 'image' as const})),
			];
			await Promise.all(
				tasks.map(({path, kind, run, ...image}) =>
					limit(async () => {
						const problem = await run();
						checked++;
						checkedPackages += kind === 'package' ? 1 : 0;
						checkedDefend += kind === 'defend' ? 1 : 0;
						checkedImages += kind === 'image' ? 1 : 0;
						options.onChecked?.(checked, total);
						if (!problem) {
							return;
						}

						problems.push({path, problem});
						const artifact = kind === 'artifact' ? classifyPath(path) : undefined;
						if (artifact?.kind === 'artifact') {
							bad.push(artifact.ref);
						}

						(kind === 'package' ? badPackages : kind === 'defend' ? badDefend : []).push(path);
						const {digest, tag} = image as Partial<ImageCheck>;
						if (digest) {
							badBlobs.push(digest);
						} else if (tag) {
							badTags.push(tag);
						}
					}),
				),
			);
		} finally {
			await scratch?.remove();
		}

		const tree = await checkTree(store, manifest);
		problems.push(...tree.problems);
		for (const ref of tree.badArtifacts) {
			if (!bad.some((known) => known.path === ref.path)) {
				bad.push(ref);
			}
		}

		for (const version of tree.badPackages) {
			if (!badPackages.includes(version)) {
				badPackages.push(version);
			}
		}

		badDefend.push(...tree.badDefend.filter((file) => !badDefend.includes(file)));
		badBlobs.push(...tree.badImages.filter((digest) => !badBlobs.includes(digest)));

		// A key file in the tree is checked whether or not the manifest lists it: it is served.
		for (const name of keyFiles) {
			if (!manifest.keys[name] && !tree.keysPresent.has(name)) {
				continue;
			}

			checked++;
			const text = (await store.readFile(name))?.toString('utf8');
			if (text === undefined) {
				problems.push({path: name, problem: 'missing from the tree'});
				continue;
			}

			try {
				const {untrusted} = await checkKeyFile(text, trusted);
				if (untrusted.length > 0) {
					problems.push({path: name, problem: `holds key ${untrusted.join(', ')}, which is not trusted`});
				}
			} catch (error) {
				problems.push({path: name, problem: `not a readable PGP key (${describeError(error)})`});
			}
		}

		problems.sort((a, b) => a.path.localeCompare(b.path));
		if (!options.repair) {
			// Verify took no lock: a sync that started meanwhile may have been replacing a file.
			if (problems.length > 0) {
				await store.assertUnlocked().catch(() => {
					warn('a sync started while verify ran; a problem may be a file it was replacing: verify again');
				});
			}

			return undefined;
		}

		for (const link of tree.strayLinks) {
			await store.remove(link);
			removed.push(link);
		}

		if (bad.length + badPackages.length + badDefend.length + badBlobs.length + badTags.length === 0) {
			return undefined;
		}

		// The artifact goes first, as prune does, so no reader finds one without its sidecars;
		// a package version's zip goes before its info, which lists it.
		const quarantine = store.quarantine(stamp);
		for (const ref of bad) {
			await writer.quarantineArtifact(ref.path, quarantine);
		}

		for (const version of badPackages.sort()) {
			await writer.quarantinePackage(version, quarantine);
		}

		movedDefend = await quarantineDefendFiles(writer, badDefend.sort(), quarantine);
		movedImages = await quarantineImageFiles(writer, {digests: badBlobs.sort(), tags: badTags}, quarantine);

		await writer.save({always: true});
		return quarantine.where;
	};
	// Without --repair verify only reads: no lock, nothing written (a read-only mirror works).
	const quarantineDir = options.repair
		? await withLockedStore(options.sync, warn, check, {mustExist: true})
		: await withReadStore(options.sync, warn, check);
	if (quarantineDir === undefined) {
		const none: string[] = [];
		const counts = {checked, checkedPackages, checkedDefend, checkedImages};
		return {
			...counts,
			problems,
			removed,
			repaired: none,
			quarantined: none,
			quarantinedPackages: none,
			quarantinedDefend: none,
			quarantinedImages: none,
			quarantineDir,
		};
	}

	const {repaired, quarantined, quarantinedPackages, quarantinedDefend, quarantinedImages} =
		await refetchQuarantined(
			options,
			{artifacts: bad, packages: badPackages, defend: movedDefend, images: movedImages, stamp},
			problems,
			emit,
		);

	return {
		checked,
		checkedPackages,
		checkedDefend,
		checkedImages,
		problems,
		repaired,
		removed,
		quarantined,
		quarantinedPackages,
		quarantinedDefend,
		quarantinedImages,
		quarantineDir:
			quarantined.length + quarantinedPackages.length + quarantinedDefend.length + quarantinedImages.length >
			0
				? quarantineDir
				: undefined,
	};
}
