/**
The second half of verify --repair: fetch again what verify quarantined, with a sync
limited to exactly those artifacts, package versions, Defend versions and image
tags (it takes the lock itself), and drop the quarantined copies of what came back
verified. A quarantined image blob is dropped once every tag it took down is back.
*/
import {type ArtifactRef, artifactFiles} from '../agent/catalog.js';
import {describeError} from '../errors.js';
import type {EventSink} from '../mirror/events.js';
import {packageFiles} from '../packages/catalog.js';
import {openStore} from '../store/open.js';
import type {StoreOptions} from '../store/store.js';
import type {Problem} from './unknown.js';

/** What a repair fetches: its quarantined artifacts and package versions (zip paths), and the quarantine's stamp. */
export type Quarantined = {
	readonly artifacts: readonly ArtifactRef[];
	readonly packages: readonly string[];
	/** Defend versions whose manifest went, and every Defend file moved (manifest zips and artifacts). */
	readonly defend: {readonly versions: readonly string[]; readonly moved: readonly string[]};
	/** Image tags (`repo:tag`) unlisted with bad blobs, and the blob paths moved; absent: none. */
	readonly images?: {readonly tags: readonly string[]; readonly moved: readonly string[]} | undefined;
	readonly stamp: string;
};

/** How to reach the mirror and fetch files again (verify's options). */
export type RefetchOptions = {
	readonly sync: StoreOptions;
	readonly refetch: (
		refs: readonly ArtifactRef[],
		packages: readonly string[],
		emit: EventSink,
		defendVersions: readonly string[],
		imageTags: readonly string[],
	) => Promise<unknown>;
};

/**
Fetch the quarantined files again. A sync that cannot run at all is one problem;
what it could not fetch stays quarantined. Resolves with what was repaired (tree
paths) and what stays in quarantine.
*/
export async function refetchQuarantined(
	options: RefetchOptions,
	{artifacts, packages, defend, images = {tags: [], moved: []}, stamp}: Quarantined,
	problems: Problem[],
	emit: EventSink,
): Promise<{
	repaired: string[];
	quarantined: string[];
	quarantinedPackages: string[];
	quarantinedDefend: string[];
	quarantinedImages: string[];
}> {
	const refetched = new Set<string>();
	if (artifacts.length + packages.length + defend.versions.length + images.tags.length > 0) {
		try {
			await options.refetch(
				artifacts,
				packages,
				(event) => {
					if (event.type === 'published') {
						refetched.add(event.path);
					}

					emit(event);
				},
				defend.versions,
				images.tags,
			);
		} catch (error) {
			problems.push({path: '(repair)', problem: `could not fetch again: ${describeError(error)}`});
		}
	}

	const paths = artifacts.map((ref) => ref.path);
	const repairedArtifacts = paths.filter((file) => refetched.has(file));
	const repairedPackages = packages.filter((file) => refetched.has(file));
	const repairedDefend = defend.moved.filter((file) => refetched.has(file));
	// Which tag needed which blob is gone with the tags: a blob is repaired when all came back.
	const imagesBack = images.tags.every((tag) => refetched.has(tag));
	const repairedImages = imagesBack ? [...images.moved] : [];
	if (
		repairedArtifacts.length + repairedPackages.length + repairedDefend.length + repairedImages.length >
		0
	) {
		const store = await openStore(options.sync);
		try {
			const quarantine = store.quarantine(stamp);
			for (const moved of [
				...repairedArtifacts.flatMap(artifactFiles),
				...repairedPackages.flatMap(packageFiles),
				...repairedDefend,
				...repairedImages,
			]) {
				await quarantine.discard(moved);
			}
		} finally {
			store.close();
		}
	}

	return {
		repaired: [
			...repairedArtifacts,
			...repairedPackages,
			...repairedDefend,
			...repairedImages,
			...images.tags.filter((tag) => refetched.has(tag)),
		],
		quarantined: paths.filter((file) => !refetched.has(file)),
		quarantinedPackages: packages.filter((file) => !refetched.has(file)),
		quarantinedDefend: defend.moved.filter((file) => !refetched.has(file)),
		quarantinedImages: imagesBack ? [] : [...images.moved],
	};
}
