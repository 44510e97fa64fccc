/**
The container images a mirror holds, as the page and the API show them: per
repository its tags newest first, each with the size of everything it brings (the
sum of its closure's blob sizes: index, platform manifests, configs, layers), and
the blob store's count and bytes. Computed once per view of the mirror.
*/
import semver from 'semver';
import {closureOf, repositoryDigests} from '../../images/closure.js';
import type {ImageTagEntry} from '../../store/manifest.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';

/** One tag of a repository. */
export type ImageTagRow = {
	readonly tag: string;
	readonly entry: ImageTagEntry;
	/** Bytes of every held blob the tag reaches, itself included (shared blobs counted once per tag). */
	readonly size: number;
};

/** One repository, its tags newest first. */
export type ImageRepositoryRow = {
	readonly name: string;
	readonly tags: readonly ImageTagRow[];
	/** Bytes of the blobs its tags reach, each once. */
	readonly size: number;
};

/** What the image store holds. */
export type ImageHoldings = {
	readonly repositories: readonly ImageRepositoryRow[];
	readonly blobs: {readonly count: number; readonly bytes: number};
};

/** Newest first: versions by semver, a version before any other tag, the rest in reverse natural order. */
export function compareTags(a: string, b: string): number {
	const [va, vb] = [semver.valid(a), semver.valid(b)];
	if (va && vb) {
		return semver.rcompare(va, vb) || a.localeCompare(b);
	}

	if (va || vb) {
		return va ? -1 : 1;
	}

	return b.localeCompare(a, 'en', {numeric: true});
}

/** The image holdings of `snapshot`, repositories by name. */
export function imageHoldings(snapshot: Snapshot): ImageHoldings {
	return perSnapshot(snapshot, 'image-rows', () => {
		const {images} = snapshot.manifest;
		const sizeOf = (digests: Iterable<string>) => {
			let bytes = 0;
			for (const digest of digests) {
				bytes += images.blobs[digest]?.size ?? 0;
			}

			return bytes;
		};
		const repositories = Object.entries(images.repositories)
			.filter(([, tags]) => Object.keys(tags).length > 0)
			.sort(([a], [b]) => a.localeCompare(b))
			.map(([name, tags]) => ({
				name,
				tags: Object.entries(tags)
					.sort(([a], [b]) => compareTags(a, b))
					.map(([tag, entry]) => ({tag, entry, size: sizeOf(closureOf(images, entry.digest))})),
				size: sizeOf(repositoryDigests(images, name)),
			}));
		const blobs = Object.values(images.blobs);
		return {
			repositories,
			blobs: {count: blobs.length, bytes: blobs.reduce((sum, blob) => sum + blob.size, 0)},
		};
	});
}
