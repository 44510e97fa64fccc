/**
verify for container images: every listed blob (layer, config, manifest, index)
re-hashed at rest, since its sha256 is its name and what every client checks on
pull; and every tag's closure listed, since the server answers a tag only with all
it reaches. Repair moves bad blobs out through writer.quarantineImageBlob, which
unlists the tags reaching them; those tags are what a repair fetches again.
*/
import {createHash} from 'node:crypto';
import {describeError} from '../errors.js';
import {blobPath} from '../images/catalog.js';
import {missingFrom, tagsReaching} from '../images/closure.js';
import type {MirrorWriter} from '../mirror/writer.js';
import type {ImageBlobEntry, ManifestView} from '../store/manifest.js';
import type {MirrorStore, Quarantine} from '../store/store.js';

/** One check: the blob path or `repo:tag` it is about, what it finds, and the digest a repair moves out. */
export type ImageCheck = {
	readonly path: string;
	readonly digest?: string | undefined;
	readonly tag?: {readonly repository: string; readonly tag: string} | undefined;
	readonly run: () => Promise<string | undefined>;
};

/** The sha256 of a tree file and its size, read once. */
export async function hashTreeFile(
	store: Pick<MirrorStore, 'openRead'>,
	relative: string,
): Promise<{digest: string; size: number}> {
	const hash = createHash('sha256');
	let size = 0;
	for await (const chunk of await store.openRead(relative)) {
		size += (chunk as Buffer).length;
		hash.update(chunk as Buffer);
	}

	return {digest: `sha256:${hash.digest('hex')}`, size};
}

async function checkBlob(store: MirrorStore, entry: ImageBlobEntry): Promise<string | undefined> {
	const relative = blobPath(entry.digest);
	const info = await store.stat(relative);
	if (!info) {
		return 'missing from the tree';
	}

	if (info.size !== entry.size) {
		return `size is ${info.size}, the manifest says ${entry.size}`;
	}

	const read = await hashTreeFile(store, relative);
	return read.digest === entry.digest && read.size === entry.size
		? undefined
		: `sha256 is ${read.digest}, not its digest (the file changed after it was published; clients reject it)`;
}

/** Whether the manifest lists any image blob or tag. */
export function holdsImages(manifest: ManifestView): boolean {
	return Object.keys(manifest.images.blobs).length + Object.keys(manifest.images.repositories).length > 0;
}

/** The checks of every listed blob, then every tag's closure, sorted by path. */
export function imageChecks(store: MirrorStore, manifest: ManifestView): ImageCheck[] {
	const {images} = manifest;
	const blobs = Object.values(images.blobs).map((entry) => ({
		path: blobPath(entry.digest),
		digest: entry.digest,
		run: () => checkBlob(store, entry).catch((error: unknown) => describeError(error)),
	}));
	const tags = Object.entries(images.repositories).flatMap(([repository, tags]) =>
		Object.entries(tags).map(([tag, entry]) => ({
			path: `${repository}:${tag}`,
			tag: {repository, tag},
			run: async () => {
				const missing = missingFrom(images, entry.digest);
				return missing.length === 0
					? undefined
					: `reaches ${missing[0]}${missing.length > 1 ? ` and ${missing.length - 1} more blobs` : ''}, which the mirror does not list`;
			},
		})),
	);
	return [...blobs, ...tags].sort((a, b) => a.path.localeCompare(b.path));
}

/**
Move bad blobs into `quarantine` (each unlisting the tags reaching it and the
manifests naming it) and unlist tags whose closure has a hole. Resolves with the
tags to fetch again (`repo:tag`, sorted) and the blob paths moved.
*/
export async function quarantineImageFiles(
	writer: MirrorWriter,
	bad: {readonly digests: readonly string[]; readonly tags: ReadonlyArray<{repository: string; tag: string}>},
	quarantine: Quarantine,
): Promise<{tags: string[]; moved: string[]}> {
	const tags = new Set<string>();
	const moved: string[] = [];
	for (const {repository, tag} of bad.tags) {
		writer.untagImage(repository, tag);
		tags.add(`${repository}:${tag}`);
	}

	for (const digest of bad.digests) {
		for (const {repository, tag} of tagsReaching(writer.manifest.images, digest)) {
			writer.untagImage(repository, tag);
			tags.add(`${repository}:${tag}`);
		}
	}

	// Written before any blob moves: a repair killed mid-way must leave no listed tag reaching one.
	if (tags.size > 0) {
		await writer.save({always: true});
	}

	for (const digest of bad.digests) {
		for (const {repository, tag} of await writer.quarantineImageBlob(digest, quarantine)) {
			tags.add(`${repository}:${tag}`);
		}

		moved.push(blobPath(digest));
	}

	return {tags: [...tags].sort(), moved};
}
