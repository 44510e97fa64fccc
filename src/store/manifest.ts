/**
The manifest: what the mirror has published, with sizes and hashes. Sync trusts it
to skip work (a re-run fetches no artifact bodies); a full re-hash belongs to a
separate check. Written atomically, so a reader sees the old or the new one.
Over 300 lines because it is the manifest's one schema: every collection's entry
types (artifacts, keys, packages, Defend, images) are declared here together.
*/
import {readFile} from 'node:fs/promises';
import type {ArtifactRef} from '../agent/catalog.js';
import {MirrorError} from '../errors.js';
import {writeFileAtomic} from './dir/atomic.js';
import type {Layout} from './layout.js';

/** One published artifact (its sidecars travel with it). */
export type ManifestEntry = {
	readonly path: string;
	readonly product: string;
	readonly version: string;
	readonly platform: string;
	readonly fips: boolean;
	readonly size: number;
	readonly sha512: string;
	/** ISO time the mirror published it. */
	readonly publishedAt: string;
	/** ISO time from the upstream's Last-Modified, when it sent one. */
	readonly upstreamModified?: string | undefined;
};

/** The manifest entry for an artifact published with these facts. */
export function manifestEntry(
	ref: ArtifactRef,
	facts: {size: number; sha512: string; publishedAt: Date; upstreamModified?: Date | undefined},
): ManifestEntry {
	return {
		path: ref.path,
		product: ref.product,
		version: ref.version,
		platform: ref.platform,
		fips: ref.fips,
		size: facts.size,
		sha512: facts.sha512,
		publishedAt: facts.publishedAt.toISOString(),
		upstreamModified: facts.upstreamModified?.toISOString(),
	};
}

/** One mirrored signing key file at the tree root. */
export type KeyEntry = {
	readonly path: string;
	readonly fingerprints: readonly string[];
	readonly size: number;
	readonly sha512: string;
	readonly publishedAt: string;
};

/** Size and sha512 of one published file. */
export type FileFacts = {
	readonly size: number;
	readonly sha512: string;
};

/**
One published integration package version: its zip (the entry's key and `path`),
detached signature and package info, all verified before they were published.
*/
export type PackageEntry = {
	/** The zip's tree path, `epr/<n>/<n>-<v>.zip`. */
	readonly path: string;
	readonly name: string;
	readonly version: string;
	/** The zip's size and sha512. */
	readonly size: number;
	readonly sha512: string;
	readonly signature: FileFacts;
	/** The package info file (`epr/<n>/<n>-<v>.json`), served as `/package/<n>/<v>/`. */
	readonly info: FileFacts;
	/** The package's format (spec) version, which `/search?spec.min=...` filters on. */
	readonly formatVersion: string;
	/** The version's entry as upstream's `/search` answered it, which the mirror's `/search` answers again. */
	readonly search: Readonly<Record<string, unknown>>;
	/** ISO time the mirror published it. */
	readonly publishedAt: string;
	/** ISO time from the upstream's Last-Modified of the zip, when it sent one. */
	readonly upstreamModified?: string | undefined;
};

/** One Defend version's manifest zip as published, and the artifacts its manifest names. */
export type DefendVersionEntry = {
	readonly version: string;
	/** The zip's tree path, `downloads/endpoint/manifest/artifacts-<version>.zip`. */
	readonly path: string;
	readonly size: number;
	readonly sha512: string;
	/** The manifest's own `manifest_version` and `schema_version`. */
	readonly manifestVersion: string;
	readonly schemaVersion: string;
	/** Tree paths of the artifacts it names; each is listed in `defend.artifacts`. */
	readonly artifacts: readonly string[];
	/** Upstream's validators of the zip, for the next run's conditional GET. */
	readonly etag?: string | undefined;
	readonly upstreamModified?: string | undefined;
	/** ISO time the mirror published this manifest zip. */
	readonly publishedAt: string;
	/** ISO time upstream last confirmed it (a 304 or the same bytes): the age operators alert on. */
	readonly refreshedAt: string;
};

/** One Defend artifact as published: immutable once named, kept while a held manifest names it. */
export type DefendArtifactEntry = {
	/** Its tree path: the `relative_url` without its leading `/`. */
	readonly path: string;
	readonly size: number;
	readonly sha512: string;
	readonly encodedSha256: string;
	readonly decodedSha256: string;
	readonly decodedSize: number;
	readonly compression: string;
	/** `none`, or the algorithm of an artifact only Endpoint can decrypt (checked on its encoded bytes). */
	readonly encryption?: string | undefined;
	readonly publishedAt: string;
};

/** The Defend protections a mirror holds: manifests by version, artifacts by tree path. */
export type DefendSection = {
	versions: Record<string, DefendVersionEntry>;
	artifacts: Record<string, DefendArtifactEntry>;
};

/**
One content-addressed file of the image store (`oci/blobs/sha256/<hex>`): a layer, a
config, or a manifest or index kept byte for byte as fetched.
*/
export type ImageBlobEntry = {
	/** `sha256:<hex>`, also the entry's key; its tree path is `oci/blobs/sha256/<hex>`. */
	readonly digest: string;
	readonly size: number;
	/** A manifest's or index's media type, served as its Content-Type; absent for layers and configs. */
	readonly mediaType?: string | undefined;
	/**
	What a manifest names and the mirror holds: its config and layers; for an index, the
	platform manifests kept (entries for platforms not selected are named but not held).
	*/
	readonly refs?: readonly string[] | undefined;
	/** A platform manifest's `os/architecture[/variant]`. */
	readonly platform?: string | undefined;
	readonly publishedAt: string;
};

/** One tag of a mirrored repository: the manifest or index it points to. */
export type ImageTagEntry = {
	readonly digest: string;
	readonly mediaType: string;
	/** Size of the manifest or index itself. */
	readonly size: number;
	/** The platforms held, `os/architecture[/variant]`. */
	readonly platforms: readonly string[];
	/** Platforms the index lists that the mirror did not take (not selected). */
	readonly skipped?: readonly string[] | undefined;
	/** ISO time the tag was set to this digest. */
	readonly publishedAt: string;
	/** ISO time the source registry last confirmed this digest for the tag. */
	readonly refreshedAt: string;
};

/** The container images a mirror holds: tags by repository, and every blob once by digest. */
export type ImagesSection = {
	repositories: Record<string, Record<string, ImageTagEntry>>;
	blobs: Record<string, ImageBlobEntry>;
};

/** The whole manifest. */
export type Manifest = {
	readonly schema: 1;
	files: Record<string, ManifestEntry>;
	keys: Record<string, KeyEntry>;
	/** Integration packages by zip path; absent in manifests written before packages existed. */
	packages: Record<string, PackageEntry>;
	/** Elastic Defend protections; absent in manifests written before they existed. */
	defend: DefendSection;
	/** Container images; absent in manifests written before they existed. */
	images: ImagesSection;
};

/** The manifest as everyone but its writer (mirror/writer.ts) sees it: read only. */
export type ManifestView = {
	readonly schema: 1;
	readonly files: Readonly<Record<string, ManifestEntry>>;
	readonly keys: Readonly<Record<string, KeyEntry>>;
	readonly packages: Readonly<Record<string, PackageEntry>>;
	readonly defend: {
		readonly versions: Readonly<Record<string, DefendVersionEntry>>;
		readonly artifacts: Readonly<Record<string, DefendArtifactEntry>>;
	};
	readonly images: {
		readonly repositories: Readonly<Record<string, Readonly<Record<string, ImageTagEntry>>>>;
		readonly blobs: Readonly<Record<string, ImageBlobEntry>>;
	};
};

/** An empty manifest. */
export function emptyManifest(): Manifest {
	return {
		schema: 1,
		files: {},
		keys: {},
		packages: {},
		defend: {versions: {}, artifacts: {}},
		images: {repositories: {}, blobs: {}},
	};
}

/**
Parse a manifest's text. An unreadable one is reported through `warning` and treated
as empty, since sync re-verifies what the store holds. `where` names it in the warning.
*/
export function parseManifest(text: string, where: string): {manifest: Manifest; warning?: string} {
	try {
		const data = JSON.parse(text) as Partial<Manifest>;
		if (data.schema !== 1 || typeof data.files !== 'object' || data.files === null) {
			throw new Error('unknown schema');
		}

		const defend = {versions: data.defend?.versions ?? {}, artifacts: data.defend?.artifacts ?? {}};
		const images = {repositories: data.images?.repositories ?? {}, blobs: data.images?.blobs ?? {}};
		return {
			manifest: {
				schema: 1,
				files: data.files,
				keys: data.keys ?? {},
				packages: data.packages ?? {},
				defend,
				images,
			},
		};
	} catch (error) {
		return {
			manifest: emptyManifest(),
			warning: `ignoring unreadable manifest ${where} (${(error as Error).message}); files in the mirror will be re-verified`,
		};
	}
}

/** The manifest as stored: files sorted by path, so that diffs between runs are small. */
export function serializeManifest(manifest: Manifest): string {
	const sorted = <T>(record: Record<string, T>) =>
		Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
	const {packages, defend, images, ...rest} = manifest;
	// No section for a collection the mirror does not hold, so that older readers see the manifest they know.
	const body = {
		...rest,
		...(Object.keys(packages).length > 0 ? {packages: sorted(packages)} : {}),
		...(Object.keys(defend.versions).length + Object.keys(defend.artifacts).length > 0
			? {defend: {versions: sorted(defend.versions), artifacts: sorted(defend.artifacts)}}
			: {}),
		...(Object.keys(images.repositories).length + Object.keys(images.blobs).length > 0
			? {
					images: {
						repositories: Object.fromEntries(
							Object.entries(sorted(images.repositories)).map(([name, tags]) => [name, sorted(tags)]),
						),
						blobs: sorted(images.blobs),
					},
				}
			: {}),
	};
	return `${JSON.stringify({...body, files: sorted(manifest.files)}, null, '\t')}\n`;
}

/**
The manifest a command that only reads works from (export, package-paths): an
unreadable one is an error (ERR_MANIFEST), since taking it as empty would silently
export or copy nothing.
*/
export async function readUsableManifest(reader: {
	readonly readManifest: () => Promise<{manifest: Manifest; warning?: string}>;
}): Promise<Manifest> {
	const {manifest, warning} = await reader.readManifest();
	if (warning) {
		throw new MirrorError('ERR_MANIFEST', warning);
	}

	return manifest;
}

/** Read the manifest of a mirror directory. A missing one is empty. */
export async function readManifest(mirror: Layout): Promise<{manifest: Manifest; warning?: string}> {
	let text: string;
	try {
		text = await readFile(mirror.manifest, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return {manifest: emptyManifest()};
		}

		throw error;
	}

	return parseManifest(text, mirror.manifest);
}

/** Write the manifest atomically. */
export async function writeManifest(mirror: Layout, manifest: Manifest): Promise<void> {
	await writeFileAtomic(mirror.manifest, serializeManifest(manifest), mirror.state);
}
