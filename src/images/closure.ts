/**
What a tag brings with it: the index, the platform manifests it names and the mirror
holds, their configs and layers. The server answers a digest under a repository only
when one of the repository's tags reaches it; prune keeps exactly what some tag
reaches; the writer refuses a tag whose closure is not all listed. Pure functions
over the manifest's image section.
*/
import type {ManifestView} from '../store/manifest.js';

/** The image section of a manifest, read only. */
export type ImagesView = ManifestView['images'];

/** Every digest `digest` reaches through the refs of listed manifests, itself included. */
export function closureOf(images: ImagesView, digest: string, into = new Set<string>()): Set<string> {
	const pending = [digest];
	while (pending.length > 0) {
		const next = pending.pop() as string;
		if (!into.has(next)) {
			into.add(next);
			pending.push(...(images.blobs[next]?.refs ?? []));
		}
	}

	return into;
}

/** The digests some tag of `repository` reaches. */
export function repositoryDigests(images: ImagesView, repository: string): Set<string> {
	const reached = new Set<string>();
	for (const entry of Object.values(images.repositories[repository] ?? {})) {
		closureOf(images, entry.digest, reached);
	}

	return reached;
}

/** The digests any tag reaches: what prune keeps. */
export function taggedDigests(images: ImagesView): Set<string> {
	const reached = new Set<string>();
	for (const tags of Object.values(images.repositories)) {
		for (const entry of Object.values(tags)) {
			closureOf(images, entry.digest, reached);
		}
	}

	return reached;
}

/** The digests of `digest`'s closure that are not listed: a tag may not point there until they are. */
export function missingFrom(images: ImagesView, digest: string): string[] {
	return [...closureOf(images, digest)].filter((each) => images.blobs[each] === undefined);
}

/** `repo:tag` of every tag whose closure contains `digest`. */
export function tagsReaching(images: ImagesView, digest: string): {repository: string; tag: string}[] {
	const found: {repository: string; tag: string}[] = [];
	for (const [repository, tags] of Object.entries(images.repositories)) {
		for (const [tag, entry] of Object.entries(tags)) {
			if (closureOf(images, entry.digest).has(digest)) {
				found.push({repository, tag});
			}
		}
	}

	return found;
}

/** Listed manifests whose refs name `digest`. */
export function manifestsNaming(images: ImagesView, digest: string): string[] {
	return Object.values(images.blobs)
		.filter((entry) => entry.refs?.includes(digest))
		.map((entry) => entry.digest);
}
