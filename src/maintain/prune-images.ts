/**
prune for container images: a pure plan. A tag goes when --keep-image-tags does
not keep it (the newest N of its repository: by semver when every tag of the
repository is a version, else by when the mirror set it), when it was set more than
--image-tags-older-than days ago, or when --unselected finds sync's --images no
longer takes it (an untagged request keeps every tag of its repository: which stack
versions it meant is the versions API's answer, not prune's). Then every listed
blob no remaining tag reaches goes: those of the tags removed, and those a failed
sync left listed without a tag. Blobs are removed indexes first, then manifests,
then what they name, so no listed manifest ever names a missing blob.
*/
import semver from 'semver';
import type {ImageRequest} from '../images/catalog.js';
import {taggedDigests} from '../images/closure.js';
import type {ImageBlobEntry, ImageTagEntry, ManifestView} from '../store/manifest.js';

/** The image rules of a prune run. */
export type ImagePruneRules = {
	readonly keepImageTags?: number | undefined;
	/** Days. */
	readonly imageTagsOlderThan?: number | undefined;
	/** Sync's --images (--unselected with images selected). */
	readonly images?: readonly ImageRequest[] | undefined;
};

/** One tag to unlist and why. */
export type ImageTagAction = {
	readonly repository: string;
	readonly tag: string;
	readonly entry: ImageTagEntry;
	readonly reason: string;
};

/** The image tags and blobs to delete, blobs in the order they may go. */
export type ImagePrunePlan = {
	readonly tags: readonly ImageTagAction[];
	readonly blobs: ReadonlyArray<{readonly entry: ImageBlobEntry; readonly reason: string}>;
};

/** The bytes the plan frees (tags themselves take none: a tag is a manifest line). */
export function imageBytes(plan: ImagePrunePlan): number {
	return plan.blobs.reduce((sum, {entry}) => sum + entry.size, 0);
}

/** A repository's tags, newest first. */
function newestFirst(tags: ReadonlyArray<[string, ImageTagEntry]>): Array<[string, ImageTagEntry]> {
	const versions = tags.every(([tag]) => semver.valid(tag) !== null);
	return [...tags].sort(([a, first], [b, second]) =>
		versions
			? semver.rcompare(a, b)
			: Date.parse(second.publishedAt) - Date.parse(first.publishedAt) || b.localeCompare(a),
	);
}

/** `going` ordered so that each blob comes before every blob it names. */
function namersFirst(images: ManifestView['images'], going: ReadonlySet<string>): string[] {
	const order: string[] = [];
	const seen = new Set<string>();
	const visit = (digest: string) => {
		if (seen.has(digest) || !going.has(digest)) {
			return;
		}

		seen.add(digest);
		for (const ref of images.blobs[digest]?.refs ?? []) {
			visit(ref);
		}

		order.push(digest);
	};
	for (const digest of [...going].sort()) {
		visit(digest);
	}

	return order.reverse();
}

/** The plan, pure. Without image rules only blobs no tag reaches go. */
export function planImagePrune(
	images: ManifestView['images'],
	rules: ImagePruneRules,
	now: Date = new Date(),
): ImagePrunePlan {
	const tags: ImageTagAction[] = [];
	const cutoff =
		rules.imageTagsOlderThan === undefined
			? undefined
			: now.getTime() - rules.imageTagsOlderThan * 86_400_000;
	for (const repository of Object.keys(images.repositories).sort()) {
		const held = Object.entries(images.repositories[repository] ?? {});
		const requests = rules.images?.filter((request) => request.repository === repository);
		const beyond = new Set(
			rules.keepImageTags === undefined
				? []
				: newestFirst(held)
						.slice(rules.keepImageTags)
						.map(([tag]) => tag),
		);
		for (const [tag, entry] of held.sort(([a], [b]) => a.localeCompare(b))) {
			const reason =
				requests && !requests.some((request) => request.tag === undefined || request.tag === tag)
					? 'no longer selected by the sync config (--images)'
					: beyond.has(tag)
						? `older than the newest ${rules.keepImageTags} tags of ${repository}`
						: cutoff !== undefined && Date.parse(entry.publishedAt) < cutoff
							? `set ${entry.publishedAt.slice(0, 10)}, more than ${rules.imageTagsOlderThan} days ago`
							: undefined;
			if (reason !== undefined) {
				tags.push({repository, tag, entry, reason});
			}
		}
	}

	const going = new Set(tags.map(({repository, tag}) => `${repository}:${tag}`));
	const remaining = {
		blobs: images.blobs,
		repositories: Object.fromEntries(
			Object.entries(images.repositories).map(([repository, held]) => [
				repository,
				Object.fromEntries(Object.entries(held).filter(([tag]) => !going.has(`${repository}:${tag}`))),
			]),
		),
	};
	const kept = taggedDigests(remaining);
	const unreached = new Set(Object.keys(images.blobs).filter((digest) => !kept.has(digest)));
	return {
		tags,
		blobs: namersFirst(images, unreached).map((digest) => ({
			entry: images.blobs[digest] as ImageBlobEntry,
			reason: 'no tag the mirror keeps reaches it',
		})),
	};
}
