/**
The Elastic Defend protections of a bundle on import. Every artifact is checked as
sync checks a download (encoded bytes, then inflated ones, against its digests) and
every manifest zip must hold a manifest.json that parses, each artifact it names
coming in the bundle or already listed in this mirror with the same digests. A
manifest naming an artifact found in neither refuses the whole bundle (a delta
bundle made for another mirror, or a `--since` too late): publishing the rest would
leave that version's previous manifest served, which hides the gap. Publishing goes
through the writer, artifacts before the manifests naming them, so a reader never
sees a manifest naming a missing artifact.
*/

import {type DefendArtifactRef, isDefendArtifactPath, parseDefendManifestPath} from '../defend/catalog.js';
import {checkDefendArtifact, readDefendManifestZip} from '../defend/verify.js';
import {BundleError, describeError} from '../errors.js';
import type {MirrorWriter} from '../mirror/writer.js';
import type {DefendArtifactEntry, DefendVersionEntry, ManifestView} from '../store/manifest.js';
import type {MirrorStore} from '../store/store.js';
import type {BundleFile, BundleManifest} from './format.js';

type Staged<E> = {readonly entry: E; readonly file: BundleFile; readonly staged: string};

/** A bundle's Defend content, checked and ready to publish. */
export type BundleDefendChecked = {
	readonly artifacts: ReadonlyArray<Staged<Omit<DefendArtifactEntry, 'publishedAt'>>>;
	readonly versions: ReadonlyArray<Staged<Omit<DefendVersionEntry, 'publishedAt'>>>;
};

/** Every file of the bundle its Defend section lists. */
export function defendFilePaths(bundle: BundleManifest): Set<string> {
	const defend = bundle.defend;
	return new Set(defend ? [...defend.versions, ...defend.artifacts].map((entry) => entry.path) : []);
}

/** The digests a manifest and an artifact entry must agree on. */
function sameDigests(ref: DefendArtifactRef, entry: Omit<DefendArtifactEntry, 'publishedAt'>): boolean {
	return (
		ref.encodedSha256 === entry.encodedSha256 &&
		ref.encodedSize === entry.size &&
		ref.decodedSha256 === entry.decodedSha256 &&
		ref.decodedSize === entry.decodedSize &&
		ref.compression === entry.compression &&
		ref.encryption === (entry.encryption ?? 'none')
	);
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/**
Check every Defend file of the bundle against `held` (the mirror's manifest); throws
BundleError naming the first bad one. Entries are rebuilt from the bytes, not taken
on trust; only validators and the refresh time come from the bundle.
*/
export async function checkBundleDefend(
	bundle: BundleManifest,
	staged: ReadonlyMap<string, string>,
	held: ManifestView,
): Promise<BundleDefendChecked> {
	const files = new Map(bundle.files.map((file) => [file.path, file]));
	const artifacts: Array<Staged<Omit<DefendArtifactEntry, 'publishedAt'>>> = [];
	for (const listed of bundle.defend?.artifacts ?? []) {
		const file = files.get(listed.path) as BundleFile;
		if (!isDefendArtifactPath(listed.path)) {
			throw new BundleError(`${listed.path} in the bundle is not a Defend artifact path`);
		}

		const entry = {
			path: listed.path,
			size: file.size,
			sha512: file.sha512,
			encodedSha256: String(listed.encodedSha256),
			decodedSha256: String(listed.decodedSha256),
			decodedSize: Number(listed.decodedSize),
			compression: String(listed.compression ?? 'zlib'),
			...(typeof listed.encryption === 'string' && listed.encryption !== 'none'
				? {encryption: listed.encryption}
				: {}),
		};
		const previous = held.defend.artifacts[listed.path];
		if (previous && previous.sha512 !== entry.sha512) {
			throw new BundleError(
				`${listed.path} in the bundle differs from the copy this mirror lists; Defend artifacts never change once named`,
			);
		}

		const ref = {
			identifier: listed.path,
			encodedSize: file.size,
			...entry,
			encryption: entry.encryption ?? 'none',
		};
		await checkDefendArtifact(staged.get(listed.path) as string, ref).catch((error: unknown) => {
			throw new BundleError(`${listed.path} in the bundle: ${describeError(error)}`);
		});
		artifacts.push({entry, file, staged: staged.get(listed.path) as string});
	}

	const inBundle = new Map(artifacts.map((artifact) => [artifact.entry.path, artifact.entry]));
	const versions: Array<Staged<Omit<DefendVersionEntry, 'publishedAt'>>> = [];
	for (const listed of bundle.defend?.versions ?? []) {
		const file = files.get(listed.path) as BundleFile;
		if (parseDefendManifestPath(listed.path) !== listed.version) {
			throw new BundleError(
				`${listed.path} in the bundle is not the manifest path of Defend ${listed.version}`,
			);
		}

		const local = staged.get(listed.path) as string;
		const manifest = await readDefendManifestZip(local, listed.path).catch((error: unknown) => {
			throw new BundleError(`${listed.path} in the bundle: ${describeError(error)}`);
		});
		for (const ref of manifest.artifacts) {
			const known = inBundle.get(ref.path) ?? held.defend.artifacts[ref.path];
			if (!known || !sameDigests(ref, known)) {
				throw new BundleError(
					`${listed.path} in the bundle names ${ref.path}, which is ${known ? 'another file' : 'neither in the bundle nor in this mirror'}; export again without --since (or with an earlier date) for this mirror`,
				);
			}
		}

		const refreshed = new Date(text(listed.refreshedAt) ?? '');
		versions.push({
			entry: {
				version: listed.version,
				path: listed.path,
				size: file.size,
				sha512: file.sha512,
				manifestVersion: manifest.manifestVersion,
				schemaVersion: manifest.schemaVersion,
				artifacts: manifest.artifacts.map((ref) => ref.path),
				etag: text(listed.etag),
				upstreamModified: text(listed.upstreamModified),
				refreshedAt: (Number.isNaN(refreshed.getTime()) ? new Date() : refreshed).toISOString(),
			},
			file,
			staged: local,
		});
	}

	return {artifacts, versions};
}

/** What publishing a bundle's Defend content did. */
export type DefendImportCounts = {
	readonly versions: {readonly published: number; readonly present: number};
	readonly artifacts: {readonly published: number; readonly present: number};
	readonly bytes: number;
};

/**
Publish the checked artifacts the mirror does not list with the same bytes, then the
manifests. A manifest the mirror already holds with the same bytes is only refreshed,
when the bundle saw upstream confirm it later than this mirror did; one this mirror
holds confirmed later than the bundle's is kept (`warn` says so).
*/
export async function publishBundleDefend(
	store: MirrorStore,
	writer: MirrorWriter,
	checked: BundleDefendChecked,
	warn: (message: string) => void = () => undefined,
): Promise<DefendImportCounts> {
	const counts = {
		versions: {published: 0, present: 0},
		artifacts: {published: 0, present: 0},
		bytes: 0,
	};
	const modified = (file: BundleFile) => {
		const date = new Date(file.modified);
		return Number.isNaN(date.getTime()) ? undefined : date;
	};

	for (const {entry, file, staged} of checked.artifacts) {
		if (
			writer.manifest.defend.artifacts[entry.path]?.sha512 === entry.sha512 &&
			(await store.stat(entry.path))?.size === entry.size
		) {
			counts.artifacts.present++;
			continue;
		}

		await writer.publishDefendArtifact(
			{relative: entry.path, from: {partPath: staged}, modified: modified(file), sha512: entry.sha512},
			entry,
		);
		counts.artifacts.published++;
		counts.bytes += entry.size;
	}

	for (const {entry, file, staged} of checked.versions) {
		const current = writer.manifest.defend.versions[entry.version];
		if (current?.sha512 === entry.sha512 && (await store.stat(entry.path))?.size === entry.size) {
			counts.versions.present++;
			if (Date.parse(entry.refreshedAt) > Date.parse(current.refreshedAt)) {
				writer.refreshDefendVersion(entry.version, new Date(entry.refreshedAt));
			}

			continue;
		}

		// An older bundle imported late must not roll endpoints back to older protections.
		if (current && Date.parse(current.refreshedAt) > Date.parse(entry.refreshedAt)) {
			warn(
				`${entry.path}: kept this mirror's manifest ${current.manifestVersion}, newer than the bundle's ${entry.manifestVersion}`,
			);
			counts.versions.present++;
			continue;
		}

		await writer.publishDefendManifest(
			{relative: entry.path, from: {partPath: staged}, modified: modified(file), sha512: entry.sha512},
			entry,
		);
		counts.versions.published++;
		counts.bytes += entry.size;
	}

	return counts;
}
