/**
Which package versions and Elastic Defend protections an export carries. Packages:
the chosen versions with those they require. Defend: the chosen versions' manifest
zips and the artifacts they name, each only when published after `--since`. A
manifest counts as published when its bytes changed (a re-check that found the same
bytes only refreshes it), so a delta bundle carries the manifests that changed and
the artifacts that are new, and relies on the importing mirror for the rest.
Images: the tags set or moved after `--since` and the blobs some tag reaches that
were published after it, so a delta carries each new blob once and relies on the
importing mirror for the blobs it already holds (import refuses a tag it cannot
complete).
*/
import semver from 'semver';
import {taggedDigests} from '../images/closure.js';
import type {PackageRequest} from '../packages/catalog.js';
import {selectPackages, withRequired} from '../packages/select.js';
import type {
	DefendArtifactEntry,
	DefendVersionEntry,
	ImageBlobEntry,
	ImageTagEntry,
	ManifestView,
	PackageEntry,
} from '../store/manifest.js';
import {resolveVersions, type VersionSpec} from '../versions.js';

/** The package versions `request` takes (all when absent), with what they require, and the selection's warnings. */
export function choosePackages(
	manifest: ManifestView,
	request: readonly PackageRequest[] | 'none' | undefined,
): {chosen: PackageEntry[]; warnings: string[]} {
	const held = Object.values(manifest.packages);
	if (request === 'none') {
		return {chosen: [], warnings: []};
	}

	if (!request) {
		return {chosen: held.sort((a, b) => a.path.localeCompare(b.path)), warnings: []};
	}

	const {selected, warnings} = selectPackages(held, request);
	return {chosen: withRequired(selected, held).entries, warnings};
}

/** What export takes of the mirror's Defend protections. */
export type DefendChoice = {
	readonly versions: DefendVersionEntry[];
	readonly artifacts: DefendArtifactEntry[];
	readonly warnings: string[];
};

/**
The versions `request` selects among those the mirror holds (all when absent, none
for `none`), their manifests and named artifacts that `recent` takes.
*/
export function chooseDefend(
	manifest: ManifestView,
	request: readonly VersionSpec[] | 'none' | undefined,
	recent: (entry: {publishedAt: string}) => boolean,
): DefendChoice {
	const held = manifest.defend.versions;
	if (request === 'none') {
		return {versions: [], artifacts: [], warnings: []};
	}

	const warnings: string[] = [];
	let names = Object.keys(held);
	if (request) {
		const resolution = resolveVersions(request, names);
		names = resolution.versions.filter((version) => held[version]);
		warnings.push(
			...resolution.warnings.map((warning) =>
				warning.replace('the versions API lists', 'the mirror holds Defend protections for'),
			),
			...resolution.versions
				.filter((version) => !held[version])
				.map((version) => `--defend-artifacts: the mirror holds no Defend protections for ${version}`),
		);
	}

	const chosen = names
		.map((version) => held[version] as DefendVersionEntry)
		.sort((a, b) =>
			semver.valid(a.version) && semver.valid(b.version)
				? semver.compareBuild(a.version, b.version)
				: a.version.localeCompare(b.version),
		);
	const paths = new Set(chosen.flatMap((entry) => entry.artifacts));
	const artifacts = [...paths]
		.sort()
		.map((path) => manifest.defend.artifacts[path])
		.filter((entry): entry is DefendArtifactEntry => entry !== undefined && recent(entry));
	return {versions: chosen.filter(recent), artifacts, warnings};
}

/** What export takes of the mirror's images: blobs named before the manifests naming them, and tags. */
export type ImageChoice = {
	readonly blobs: ImageBlobEntry[];
	readonly repositories: Record<string, Record<string, ImageTagEntry>>;
	readonly tags: number;
};

/**
The tags `recent` takes and the blobs it takes among those some tag reaches (a blob
no tag reaches, left by a failed sync, is not carried); none when `include` is false.
*/
export function chooseImages(
	manifest: ManifestView,
	include: boolean,
	recent: (entry: {publishedAt: string}) => boolean,
): ImageChoice {
	const {images} = manifest;
	const repositories: Record<string, Record<string, ImageTagEntry>> = {};
	let tags = 0;
	if (!include) {
		return {blobs: [], repositories, tags};
	}

	for (const [repository, held] of Object.entries(images.repositories).sort(([a], [b]) =>
		a.localeCompare(b),
	)) {
		for (const [tag, entry] of Object.entries(held).sort(([a], [b]) => a.localeCompare(b))) {
			if (recent(entry)) {
				repositories[repository] = {...repositories[repository], [tag]: entry};
				tags++;
			}
		}
	}

	const reached = taggedDigests(images);
	const tops = new Set(
		Object.values(repositories).flatMap((held) => Object.values(held).map((entry) => entry.digest)),
	);
	const order: ImageBlobEntry[] = [];
	const seen = new Set<string>();
	const visit = (digest: string) => {
		const entry = images.blobs[digest];
		if (seen.has(digest) || !entry) {
			return;
		}

		seen.add(digest);
		for (const ref of entry.refs ?? []) {
			visit(ref);
		}

		// The index or manifest a chosen tag points to goes along even when older than --since:
		// it may name more platforms now (--image-platforms widened) than when it was published.
		if (reached.has(digest) && (recent(entry) || tops.has(digest))) {
			order.push(entry);
		}
	};
	for (const digest of Object.keys(images.blobs).sort()) {
		visit(digest);
	}

	return {blobs: order, repositories, tags};
}
