/**
The export bundle: a tar whose first entry is a manifest listing every file that
follows with its size and sha512, so an importer can check each file as it
streams past and knows when the bundle is complete.
*/
import {BundleError} from '../errors.js';
import {blobPath, isDigest, isRepository, isTag} from '../images/catalog.js';
import type {
	DefendArtifactEntry,
	DefendVersionEntry,
	ImageBlobEntry,
	ImageTagEntry,
	PackageEntry,
} from '../store/manifest.js';

/** The name of the bundle's first entry. */
export const bundleManifestName = 'elastic-artifact-mirror-bundle.json';

/** One file in the bundle, at its tree path. */
export type BundleFile = {
	readonly path: string;
	readonly size: number;
	readonly sha512: string;
	/** The file's modification time in the source mirror (upstream's Last-Modified). */
	readonly modified: string;
};

/** The bundle's own manifest. */
export type BundleManifest = {
	readonly format: 'elastic-artifact-mirror-bundle';
	readonly version: 1;
	readonly createdAt: string;
	readonly producer: string;
	/** Only files published after this time, when the export used --since. */
	readonly since?: string | undefined;
	readonly artifacts: number;
	readonly bytes: number;
	readonly files: readonly BundleFile[];
	/**
	The package versions whose files (zip, signature, info) are in `files`, as the source
	manifest lists them; absent in bundles without packages.
	*/
	readonly packages?: readonly PackageEntry[] | undefined;
	/**
	The Elastic Defend manifest zips and artifacts in `files`, with their source manifest
	entries; absent in bundles without Defend protections.
	*/
	readonly defend?: BundleDefend | undefined;
	/**
	Container image blobs in `files` (each digest once, at `oci/blobs/sha256/<hex>`) with
	their source manifest entries, and the tags; absent in bundles without images.
	*/
	readonly images?: BundleImages | undefined;
};

/** The image section of a bundle's manifest: blobs in the order they publish in (named before namers). */
export type BundleImages = {
	readonly blobs: readonly ImageBlobEntry[];
	readonly repositories: Readonly<Record<string, Readonly<Record<string, ImageTagEntry>>>>;
};

/** The Defend section of a bundle's manifest. */
export type BundleDefend = {
	readonly versions: readonly DefendVersionEntry[];
	readonly artifacts: readonly DefendArtifactEntry[];
};

const sha512Hex = /^[0-9a-f]{128}$/;

/** Parse and check the manifest entry; throws BundleError on anything unexpected. */
export function parseBundleManifest(text: string): BundleManifest {
	let data: Partial<BundleManifest>;
	try {
		data = JSON.parse(text) as Partial<BundleManifest>;
	} catch {
		throw new BundleError(`${bundleManifestName} is not valid JSON`);
	}

	if (data.format !== 'elastic-artifact-mirror-bundle' || data.version !== 1 || !Array.isArray(data.files)) {
		throw new BundleError(`${bundleManifestName} is not a version 1 elastic-artifact-mirror bundle manifest`);
	}

	const seen = new Set<string>();
	for (const file of data.files) {
		if (
			typeof file?.path !== 'string' ||
			!Number.isSafeInteger(file.size) ||
			file.size < 0 ||
			typeof file.sha512 !== 'string' ||
			!sha512Hex.test(file.sha512)
		) {
			throw new BundleError(
				`${bundleManifestName} has a malformed file entry: ${JSON.stringify(file).slice(0, 200)}`,
			);
		}

		if (seen.has(file.path)) {
			throw new BundleError(`${bundleManifestName} lists ${file.path} twice`);
		}

		seen.add(file.path);
	}

	const packages = data.packages ?? [];
	if (!Array.isArray(packages)) {
		throw new BundleError(`${bundleManifestName} has a malformed packages list`);
	}

	const listed = new Set<string>();
	for (const entry of packages) {
		const fields = entry as Partial<PackageEntry> | undefined;
		if (
			typeof fields?.path !== 'string' ||
			typeof fields.name !== 'string' ||
			typeof fields.version !== 'string' ||
			typeof fields.search !== 'object' ||
			fields.search === null ||
			!seen.has(fields.path)
		) {
			throw new BundleError(
				`${bundleManifestName} has a malformed package entry: ${JSON.stringify(entry).slice(0, 200)}`,
			);
		}

		if (listed.has(fields.path)) {
			throw new BundleError(`${bundleManifestName} lists package ${fields.path} twice`);
		}

		listed.add(fields.path);
	}

	checkDefendSection(data.defend, seen);
	checkImagesSection(data.images, seen);
	return data as BundleManifest;
}

/** The Defend section names only files the bundle lists, each once. */
function checkDefendSection(defend: Partial<BundleDefend> | undefined, files: ReadonlySet<string>): void {
	if (defend === undefined) {
		return;
	}

	if (!Array.isArray(defend?.versions) || !Array.isArray(defend.artifacts)) {
		throw new BundleError(`${bundleManifestName} has a malformed defend section`);
	}

	const listed = new Set<string>();
	for (const entry of [...defend.versions, ...defend.artifacts] as Array<Partial<DefendVersionEntry>>) {
		if (
			typeof entry?.path !== 'string' ||
			!files.has(entry.path) ||
			listed.has(entry.path) ||
			(defend.versions.includes(entry as DefendVersionEntry) && typeof entry.version !== 'string')
		) {
			throw new BundleError(
				`${bundleManifestName} has a malformed or repeated defend entry: ${JSON.stringify(entry).slice(0, 200)}`,
			);
		}

		listed.add(entry.path);
	}
}

/** The image section names only valid repositories, tags and digests, each blob once and in `files`. */
function checkImagesSection(images: Partial<BundleImages> | undefined, files: ReadonlySet<string>): void {
	if (images === undefined) {
		return;
	}

	const malformed = (what: unknown) =>
		new BundleError(
			`${bundleManifestName} has a malformed or repeated image entry: ${JSON.stringify(what).slice(0, 200)}`,
		);
	if (
		!Array.isArray(images?.blobs) ||
		typeof images.repositories !== 'object' ||
		images.repositories === null
	) {
		throw new BundleError(`${bundleManifestName} has a malformed images section`);
	}

	const listed = new Set<string>();
	for (const entry of images.blobs as Array<Partial<ImageBlobEntry>>) {
		const refs = entry?.refs ?? [];
		if (
			typeof entry?.digest !== 'string' ||
			!isDigest(entry.digest) ||
			!files.has(blobPath(entry.digest)) ||
			listed.has(entry.digest) ||
			!Array.isArray(refs) ||
			!refs.every((ref) => typeof ref === 'string' && isDigest(ref))
		) {
			throw malformed(entry);
		}

		listed.add(entry.digest);
	}

	for (const [repository, tags] of Object.entries(images.repositories)) {
		if (!isRepository(repository) || typeof tags !== 'object' || tags === null) {
			throw malformed(repository);
		}

		for (const [tag, entry] of Object.entries(tags as Record<string, Partial<ImageTagEntry>>)) {
			if (!isTag(tag) || typeof entry?.digest !== 'string' || !isDigest(entry.digest)) {
				throw malformed({repository, tag, entry});
			}
		}
	}
}
