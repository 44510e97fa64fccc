/**
What pushing one mirrored tag sends, worked out from the manifest's image section
and the stored manifest bytes before anything is sent: the configs and layers, the
manifests to put by digest (children before the indexes that name them), and what
the tag points to. An index whose entries the mirror all holds goes up byte for
byte; one that names platforms the mirror did not take is reduced to the entries
held (its other fields kept as they are, serialized by JSON.stringify), since a
registry refuses an index naming manifests it does not have. The reduced index has
a new digest, the same on every run for the same held entries.
*/
import {ImageError} from '../errors.js';
import type {ManifestView} from '../store/manifest.js';
import {flatName} from './catalog.js';
import {acceptedManifestTypes, indexTypes, parseManifest} from './media.js';
import type {PushedManifest} from './registry-push.js';
import {sha256Of} from './registry-source.js';

/** The image section of a manifest, read only. */
type ImagesView = ManifestView['images'];

/** One tag's push, in the order it is sent: blobs, manifests, then the tag. */
export type TagPlan = {
	readonly repository: string;
	readonly tag: string;
	/** The repository name in the destination. */
	readonly target: string;
	/** Configs and layers, each once. */
	readonly blobs: ReadonlyArray<{readonly digest: string; readonly size: number}>;
	/** Manifests (and nested indexes) put by digest, each after what it names. */
	readonly manifests: readonly PushedManifest[];
	/** What the tag is put as: the stored bytes, or the reduced index. */
	readonly top: PushedManifest;
	/** Set when the index was reduced: the mirror's digest, and the platforms of the entries kept. */
	readonly reduced?: {readonly from: string; readonly platforms: readonly string[]} | undefined;
};

/** The destination name of `repository`: itself, or ECK's flat name under `containerRepository`. */
export function targetName(repository: string, containerRepository: string | undefined): string {
	return containerRepository ? flatName(repository, containerRepository) : repository;
}

/**
Tags that would land on the same destination name and tag from two repositories
(with `--container-repository`, `beats/elastic-agent` and `elastic-agent/elastic-agent`
share `NAME/elastic-agent`): `[target:tag, first repository, second repository]`.
*/
export function targetCollisions(
	images: ImagesView,
	containerRepository: string | undefined,
): Array<[string, string, string]> {
	const seen = new Map<string, {repository: string; digest: string}>();
	const found: Array<[string, string, string]> = [];
	for (const repository of Object.keys(images.repositories).sort()) {
		for (const [tag, entry] of Object.entries(images.repositories[repository] ?? {})) {
			const key = `${targetName(repository, containerRepository)}:${tag}`;
			const other = seen.get(key);
			// The same digest from both is the same image: pushing either is right.
			if (other && other.digest !== entry.digest) {
				found.push([key, other.repository, repository]);
			} else if (!other) {
				seen.set(key, {repository, digest: entry.digest});
			}
		}
	}

	return found;
}

/**
The index `bytes` reduced to the entries `held` lists, or undefined when it holds
them all (then it is pushed as it is). Throws ImageError when it holds none.
*/
export function reduceIndex(
	bytes: Buffer,
	where: string,
	held: (digest: string) => boolean,
): {manifest: Buffer; digest: string; platforms: string[]} | undefined {
	const parsed = parseManifest(bytes, undefined, where);
	if (parsed.kind !== 'index') {
		return undefined;
	}

	const kept = parsed.manifests.filter((entry) => held(entry.digest));
	if (kept.length === parsed.manifests.length) {
		return undefined;
	}

	if (kept.length === 0) {
		throw new ImageError(`${where}: the mirror holds none of the manifests its index names`);
	}

	// The same document with fewer entries: mediaType, schemaVersion, annotations and key order kept.
	const document = JSON.parse(bytes.toString('utf8')) as {manifests: Array<{digest?: unknown}>};
	document.manifests = document.manifests.filter(
		(entry) => typeof entry.digest === 'string' && held(entry.digest),
	);
	const manifest = Buffer.from(JSON.stringify(document));
	const platforms = kept.flatMap((entry) =>
		entry.attests === undefined && entry.platform ? [entry.platform] : [],
	);
	return {manifest, digest: sha256Of(manifest), platforms};
}

/**
Plan the push of `repository:tag` to `target`; `read` gives a stored manifest's
bytes, checked against its digest. Throws ImageError when the mirror's records are
incomplete or a stored manifest does not match its digest.
*/
export async function planTag(
	images: ImagesView,
	repository: string,
	tag: string,
	target: string,
	read: (digest: string) => Promise<Buffer | undefined>,
): Promise<TagPlan> {
	const where = `${repository}:${tag}`;
	const entry = images.repositories[repository]?.[tag];
	if (!entry) {
		throw new ImageError(`${where} is not in the mirror`);
	}

	const bytesOf = async (digest: string): Promise<Buffer> => {
		const bytes = await read(digest);
		if (!bytes) {
			throw new ImageError(`${where}: manifest ${digest} is missing from the store; run verify`);
		}

		if (sha256Of(bytes) !== digest) {
			throw new ImageError(`${where}: the stored manifest ${digest} does not match its digest; run verify`, {
				code: 'ERR_DIGEST',
			});
		}

		return bytes;
	};

	const blobs: Array<{digest: string; size: number}> = [];
	const manifests: PushedManifest[] = [];
	const visited = new Set<string>();
	// Depth first, each manifest after what it names, so a registry never sees a reference to something it lacks.
	const visit = async (digest: string): Promise<void> => {
		if (visited.has(digest)) {
			return;
		}

		visited.add(digest);
		const blob = images.blobs[digest];
		if (!blob) {
			throw new ImageError(
				`${where}: ${digest} is named but not listed in the mirror's manifest; run verify`,
			);
		}

		if (!blob.mediaType || !acceptedManifestTypes.includes(blob.mediaType)) {
			blobs.push({digest, size: blob.size});
			return;
		}

		for (const ref of blob.refs ?? []) {
			await visit(ref);
		}

		if (digest !== entry.digest) {
			manifests.push({digest, mediaType: blob.mediaType, bytes: await bytesOf(digest)});
		}
	};

	await visit(entry.digest);
	const mediaType = images.blobs[entry.digest]?.mediaType ?? entry.mediaType;
	const bytes = await bytesOf(entry.digest);
	const held = (digest: string) => images.blobs[digest] !== undefined;
	const index = indexTypes.includes(mediaType) ? parseManifest(bytes, mediaType, where) : undefined;
	// An entry held for another tag and missing from this index's refs still goes up before the index names it.
	for (const named of index?.kind === 'index' ? index.manifests : []) {
		if (held(named.digest)) {
			await visit(named.digest);
		}
	}

	const reduced = index ? reduceIndex(bytes, where, held) : undefined;
	return {
		repository,
		tag,
		target,
		blobs,
		manifests,
		top: reduced
			? {digest: reduced.digest, mediaType, bytes: reduced.manifest}
			: {digest: entry.digest, mediaType, bytes},
		...(reduced ? {reduced: {from: entry.digest, platforms: reduced.platforms}} : {}),
	};
}
