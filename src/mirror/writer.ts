/**
The one owner of the manifest while a command writes the mirror. It reads the
manifest at the start and keeps the publish order: an artifact or key file enters
the manifest only after its files are in the tree, and leaves it only after they
have left (artifact first, then its sidecars, so a reader never finds an artifact
without them). It also records the run in status.json. Sync, import, verify
--repair and prune write through it; nothing else changes a Manifest. Over 300 lines
because it is that one owner for every collection (artifacts, keys, packages, Defend,
images): each collection's publish and removal order lives here, next to the others.
*/
import {createHash} from 'node:crypto';
import {type ArtifactRef, artifactFiles} from '../agent/catalog.js';
import {blobPath} from '../images/catalog.js';
import {manifestsNaming, missingFrom, tagsReaching} from '../images/closure.js';
import {packageFiles} from '../packages/catalog.js';
import {redactText} from '../redact.js';
import {
	type DefendArtifactEntry,
	type DefendVersionEntry,
	type ImageBlobEntry,
	type ImageTagEntry,
	type KeyEntry,
	type ManifestView,
	manifestEntry,
	type PackageEntry,
} from '../store/manifest.js';
import type {RunCounts, RunFailure} from '../store/status.js';
import type {MirrorStore, PublishedFile, Quarantine} from '../store/store.js';

/** A finished run, as its command knows it; the writer stamps the end and redacts. */
export type FinishedRun = {
	/** What filled the mirror; left out for a sync. */
	readonly kind?: 'import' | undefined;
	readonly startedAt: Date;
	readonly result: 'success' | 'failed';
	readonly counts: RunCounts;
	/** Why the whole run failed, when it did. */
	readonly error?: string | undefined;
	readonly failures: readonly RunFailure[];
};

const tagText = ({repository, tag}: {repository: string; tag: string}) => `${repository}:${tag}`;

/** The verified pieces of one artifact, as the store publishes them. */
type VerifiedArtifact = Parameters<MirrorStore['publishArtifact']>[0];

/**
A verified package version ready to publish: its three files (signature, zip, info,
in that order) and the entry that lists it.
*/
export type VerifiedPackage = {
	readonly files: readonly [signature: PublishedFile, zip: PublishedFile, info: PublishedFile];
	readonly entry: Omit<PackageEntry, 'publishedAt'>;
};

/** The writer of one command's changes to the mirror. */
export type MirrorWriter = {
	/** The manifest as read at the start, with this writer's changes; read-only to everyone else. */
	readonly manifest: ManifestView;
	/** Publish a verified artifact (sidecars first, the artifact last), then list it. */
	publishArtifact(artifact: VerifiedArtifact, size: number): Promise<void>;
	/** List an artifact already in the tree and verified there. */
	recordArtifact(
		ref: ArtifactRef,
		facts: {size: number; sha512: string; publishedAt: Date; upstreamModified?: Date | undefined},
	): void;
	/** Publish a checked key file at the tree root, then list it. */
	publishKey(name: string, data: Buffer, fingerprints: readonly string[]): Promise<KeyEntry>;
	/** List a checked key file already in the tree with these bytes. */
	recordKey(name: string, data: Buffer, fingerprints: readonly string[]): KeyEntry;
	/** Publish a verified package version (signature, zip, then the info that makes it visible), then list it. */
	publishPackage(pkg: VerifiedPackage): Promise<void>;
	/** List a package version already in the tree and verified there. */
	recordPackage(entry: Omit<PackageEntry, 'publishedAt'>, publishedAt?: Date): void;
	/** Delete a package version's files (zip first, info last), then unlist it. */
	removePackage(path: string): Promise<void>;
	/** Move a package version's files into `quarantine`, then unlist it. */
	quarantinePackage(path: string, quarantine: Quarantine): Promise<void>;
	/** Publish a checked Defend artifact (one file), then list it. */
	publishDefendArtifact(file: PublishedFile, entry: Omit<DefendArtifactEntry, 'publishedAt'>): Promise<void>;
	/**
	Publish a checked Defend manifest zip, replacing the version's previous one, then
	list it. Its artifacts must be listed already: a reader never finds a manifest
	naming a missing artifact.
	*/
	publishDefendManifest(file: PublishedFile, entry: Omit<DefendVersionEntry, 'publishedAt'>): Promise<void>;
	/** List Defend content already in the tree and checked there (import, adoption). */
	recordDefend(
		entries: {
			artifacts?: ReadonlyArray<Omit<DefendArtifactEntry, 'publishedAt'>>;
			versions?: ReadonlyArray<Omit<DefendVersionEntry, 'publishedAt'>>;
		},
		publishedAt?: Date,
	): void;
	/** Note that upstream confirmed a version's manifest (304 or the same bytes) at `at`, with its validators. */
	refreshDefendVersion(
		version: string,
		at: Date,
		validators?: {etag?: string; upstreamModified?: string},
	): void;
	/** Delete a version's manifest zip, then unlist the version (its artifacts stay until prune). */
	removeDefendVersion(version: string): Promise<void>;
	/** Delete a Defend artifact that no listed manifest names any more, then unlist it. */
	removeDefendArtifact(path: string): Promise<void>;
	/** Move a version's manifest zip or an artifact into `quarantine`, then unlist it (a version whose artifact goes is unlisted too). */
	quarantineDefend(path: string, quarantine: Quarantine): Promise<void>;
	/**
	Publish a verified image blob (a layer, a config, or a manifest whose refs are all
	listed already), then list it by digest.
	*/
	publishImageBlob(file: PublishedFile, entry: Omit<ImageBlobEntry, 'publishedAt'>): Promise<void>;
	/** List image blobs already in the tree and verified there (import, adoption). */
	recordImageBlobs(entries: ReadonlyArray<Omit<ImageBlobEntry, 'publishedAt'>>, publishedAt?: Date): void;
	/**
	Point `repository:tag` at a listed manifest or index, whose closure must be listed:
	the tag is the last thing an image gets, and one manifest write moves it.
	*/
	tagImage(
		repository: string,
		tag: string,
		entry: Omit<ImageTagEntry, 'publishedAt' | 'refreshedAt'>,
		at?: Date,
	): void;
	/** Note that the source registry confirmed a tag's digest at `at`. */
	refreshImageTag(repository: string, tag: string, at: Date): void;
	/** Unlist a tag (its blobs stay until prune finds no tag reaching them). */
	untagImage(repository: string, tag: string): void;
	/** Delete an image blob no tag or listed manifest reaches, then unlist it. */
	removeImageBlob(digest: string): Promise<void>;
	/**
	Move an image blob into `quarantine`, unlist it, and unlist every tag reaching it and
	every manifest naming it (their files stay, checked, for the re-fetch to find).
	Resolves with the tags unlisted.
	*/
	quarantineImageBlob(digest: string, quarantine: Quarantine): Promise<{repository: string; tag: string}[]>;
	/** Delete an artifact and its sidecars from the tree, then unlist it. */
	removeArtifact(path: string): Promise<void>;
	/** Move an artifact and its sidecars into `quarantine`, then unlist it. */
	quarantineArtifact(path: string, quarantine: Quarantine): Promise<void>;
	/**
	Write the manifest once what was queued before is written: when it changed, or
	whatever the changes with `always`. A failed periodic save surfaces here.
	*/
	save(options?: {always?: boolean}): Promise<void>;
	/** Cancel a pending periodic save (the run ends without a final one). */
	stop(): void;
	/** Record a finished run in status.json. */
	recordRun(run: FinishedRun): Promise<void>;
};

/**
Read the manifest of `store` and take charge of it. With `saveEveryMs`, an artifact
listed is written within that time (at most one write per interval): a killed sync
loses little, and what it loses is verified again from the tree. `warning` says the
manifest was unreadable and is taken as empty.
*/
export async function openWriter(
	store: MirrorStore,
	{saveEveryMs}: {saveEveryMs?: number | undefined} = {},
): Promise<{writer: MirrorWriter; warning?: string | undefined}> {
	const {manifest, warning} = await store.readManifest();
	let saving = Promise.resolve();
	let dirty = false;
	let timer: NodeJS.Timeout | undefined;
	let lastSaveMs = 0;
	const save = ({always = false} = {}) => {
		dirty ||= always;
		saving = saving.then(async () => {
			if (dirty) {
				dirty = false;
				const started = performance.now();
				await store.writeManifest(manifest);
				lastSaveMs = performance.now() - started;
			}
		});
		return saving;
	};

	const listed = () => {
		dirty = true;
		if (saveEveryMs !== undefined) {
			// Periodic saves take at most a tenth of the run: each rewrites the whole manifest,
			// and a save a second of a 100,000-artifact manifest made the first sync quadratic.
			timer ??= setTimeout(
				() => {
					timer = undefined;
					// A failed save surfaces at the next one, which chains on this one.
					save().catch(() => undefined);
				},
				Math.max(saveEveryMs, 10 * lastSaveMs),
			);
		}
	};

	const recordArtifact: MirrorWriter['recordArtifact'] = (ref, facts) => {
		manifest.files[ref.path] = manifestEntry(ref, facts);
		listed();
	};

	// Key files are written with the next save: they are few, and synced after the artifacts.
	const recordKey: MirrorWriter['recordKey'] = (name, data, fingerprints) => {
		const sha512 = createHash('sha512').update(data).digest('hex');
		const previous = manifest.keys[name];
		const entry = {
			path: name,
			fingerprints: [...fingerprints],
			size: data.length,
			sha512,
			publishedAt: previous?.sha512 === sha512 ? previous.publishedAt : new Date().toISOString(),
		};
		manifest.keys[name] = entry;
		dirty = true;
		return entry;
	};

	const unlist = (path: string) => {
		delete manifest.files[path];
		dirty = true;
	};

	/** Take files out of the tree one by one, in the order given, then unlist what they were. */
	const takeOut = async (
		files: readonly string[],
		move: (file: string) => Promise<void>,
		unlistIt: () => void,
	) => {
		for (const file of files) {
			await move(file);
		}

		unlistIt();
	};

	const recordPackage: MirrorWriter['recordPackage'] = (entry, publishedAt = new Date()) => {
		manifest.packages[entry.path] = {...entry, publishedAt: publishedAt.toISOString()};
		listed();
	};

	const unlistPackage = (path: string) => {
		delete manifest.packages[path];
		dirty = true;
	};

	const defend = manifest.defend;
	const recordDefend: MirrorWriter['recordDefend'] = ({artifacts = [], versions = []}, at = new Date()) => {
		const publishedAt = at.toISOString();
		for (const entry of artifacts) {
			defend.artifacts[entry.path] = {
				...entry,
				publishedAt: defend.artifacts[entry.path]?.publishedAt ?? publishedAt,
			};
		}

		for (const entry of versions) {
			defend.versions[entry.version] = {...entry, publishedAt};
		}

		listed();
	};

	/** Versions whose manifest names `path`: unlisted with it, since they would name a missing file. */
	const versionsNaming = (path: string) =>
		Object.values(defend.versions).filter((entry) => entry.path === path || entry.artifacts.includes(path));

	const images = manifest.images;
	const recordImageBlobs: MirrorWriter['recordImageBlobs'] = (entries, at = new Date()) => {
		for (const entry of entries) {
			images.blobs[entry.digest] = {
				...entry,
				publishedAt: images.blobs[entry.digest]?.publishedAt ?? at.toISOString(),
			};
		}

		listed();
	};

	const untagImage = (repository: string, tag: string) => {
		const tags = images.repositories[repository];
		if (tags?.[tag]) {
			delete tags[tag];
			if (Object.keys(tags).length === 0) {
				delete images.repositories[repository];
			}

			dirty = true;
		}
	};

	const writer: MirrorWriter = {
		manifest,
		async publishArtifact(artifact, size) {
			await store.publishArtifact(artifact);
			recordArtifact(artifact.ref, {
				size,
				sha512: artifact.sha512,
				publishedAt: new Date(),
				upstreamModified: artifact.modified,
			});
		},
		recordArtifact,
		async publishKey(name, data, fingerprints) {
			await store.publishRootFile(name, data);
			return recordKey(name, data, fingerprints);
		},
		recordKey,
		async publishPackage(pkg) {
			await store.publishFiles(pkg.files);
			recordPackage(pkg.entry);
		},
		recordPackage,
		removePackage: (path) => takeOut(packageFiles(path), store.remove, () => unlistPackage(path)),
		quarantinePackage: (path, quarantine) =>
			takeOut(packageFiles(path), quarantine.move, () => unlistPackage(path)),
		async publishDefendArtifact(file, entry) {
			// With its sha512, an object store serves a dash-free ETag even for a multipart upload.
			await store.publishFiles([{...file, sha512: file.sha512 ?? entry.sha512}]);
			recordDefend({artifacts: [entry]});
		},
		async publishDefendManifest(file, entry) {
			const missing = entry.artifacts.find((path) => !defend.artifacts[path]);
			if (missing !== undefined) {
				throw new Error(`internal: ${entry.path} would name ${missing}, which is not published`);
			}

			await store.publishFiles([{...file, sha512: file.sha512 ?? entry.sha512}]);
			recordDefend({versions: [entry]});
		},
		recordDefend,
		refreshDefendVersion(version, at, validators = {}) {
			const entry = defend.versions[version];
			if (entry) {
				defend.versions[version] = {...entry, ...validators, refreshedAt: at.toISOString()};
				dirty = true;
			}
		},
		async removeDefendVersion(version) {
			const entry = defend.versions[version];
			if (entry) {
				await store.remove(entry.path);
				delete defend.versions[version];
				dirty = true;
			}
		},
		async removeDefendArtifact(path) {
			const naming = versionsNaming(path);
			if (naming.length > 0) {
				throw new Error(
					`internal: ${path} is named by the manifest of ${naming.map((entry) => entry.version).join(', ')}`,
				);
			}

			await store.remove(path);
			delete defend.artifacts[path];
			dirty = true;
		},
		async quarantineDefend(path, quarantine) {
			// A manifest naming the file goes first: no reader may find it pointing at nothing.
			for (const entry of versionsNaming(path)) {
				if (entry.path !== path) {
					await quarantine.move(entry.path);
				}

				delete defend.versions[entry.version];
			}

			await quarantine.move(path);
			delete defend.artifacts[path];
			dirty = true;
		},
		async publishImageBlob(file, entry) {
			const missing = (entry.refs ?? []).find((digest) => !images.blobs[digest]);
			if (missing !== undefined) {
				throw new Error(`internal: ${entry.digest} would name ${missing}, which is not published`);
			}

			await store.publishFiles([file]);
			recordImageBlobs([entry]);
		},
		recordImageBlobs,
		tagImage(repository, tag, entry, at = new Date()) {
			const missing = missingFrom(images, entry.digest);
			if (missing.length > 0) {
				throw new Error(`internal: ${repository}:${tag} would reach ${missing[0]}, which is not published`);
			}

			const previous = images.repositories[repository]?.[tag];
			const publishedAt = previous?.digest === entry.digest ? previous.publishedAt : at.toISOString();
			images.repositories[repository] = {
				...images.repositories[repository],
				[tag]: {...entry, publishedAt, refreshedAt: at.toISOString()},
			};
			listed();
		},
		refreshImageTag(repository, tag, at) {
			const entry = images.repositories[repository]?.[tag];
			if (entry) {
				(images.repositories[repository] as Record<string, ImageTagEntry>)[tag] = {
					...entry,
					refreshedAt: at.toISOString(),
				};
				dirty = true;
			}
		},
		untagImage,
		async removeImageBlob(digest) {
			const naming = [...manifestsNaming(images, digest), ...tagsReaching(images, digest).map(tagText)];
			if (naming.length > 0) {
				throw new Error(`internal: ${digest} is still named by ${naming.join(', ')}`);
			}

			await store.remove(blobPath(digest));
			delete images.blobs[digest];
			dirty = true;
		},
		async quarantineImageBlob(digest, quarantine) {
			// Tags first: no reader may be pointed at a closure with a hole in it.
			const tags = tagsReaching(images, digest);
			for (const {repository, tag} of tags) {
				untagImage(repository, tag);
			}

			for (const naming of manifestsNaming(images, digest)) {
				delete images.blobs[naming];
			}

			await quarantine.move(blobPath(digest));
			delete images.blobs[digest];
			dirty = true;
			return tags;
		},
		removeArtifact: (path) => takeOut(artifactFiles(path), store.remove, () => unlist(path)),
		quarantineArtifact: (path, quarantine) =>
			takeOut(artifactFiles(path), quarantine.move, () => unlist(path)),
		save,
		stop() {
			clearTimeout(timer);
			timer = undefined;
		},
		async recordRun(run) {
			await store.recordRun({
				...(run.kind ? {kind: run.kind} : {}),
				startedAt: run.startedAt.toISOString(),
				finishedAt: new Date().toISOString(),
				result: run.result,
				counts: run.counts,
				...(run.error === undefined ? {} : {error: redactText(run.error)}),
				// Reasons are redacted where they are made, and again here whatever made them.
				failures: run.failures.map(({path, reason, code}) => ({path, reason: redactText(reason), code})),
			});
		},
	};
	return {writer, warning};
}
