/**
The container images of a bundle on import. Every blob is re-hashed against its
digest (the check every client makes on pull) and every manifest and index parsed,
its listed refs among what its bytes name; entries are rebuilt from the bytes, not
taken on trust. Unlike the other collections a bad blob does not refuse the whole
bundle: a tag is published only when its whole closure is sound and at hand (in
the bundle or already in this mirror), otherwise it is refused with the reason
(import exits 1) and nothing of it is published, while the other tags go in. Blobs
are published named before namers (layers and configs, manifests, indexes) and the
tags last, through the writer, so a reader never meets a tag with a hole in it.
*/
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {describeError} from '../errors.js';
import {blobPath} from '../images/catalog.js';
import {indexTypes, parseManifest} from '../images/media.js';
import type {MirrorWriter} from '../mirror/writer.js';
import type {ImageBlobEntry, ImageTagEntry} from '../store/manifest.js';
import type {MirrorStore} from '../store/store.js';
import type {BundleFile, BundleManifest} from './format.js';

type Blob = {
	readonly entry: Omit<ImageBlobEntry, 'publishedAt'>;
	readonly file: BundleFile;
	readonly staged: string;
};

/** A bundle's images, checked: the sound blobs, the bad ones with why, and the tags. */
export type BundleImagesChecked = {
	readonly blobs: ReadonlyMap<string, Blob>;
	readonly broken: ReadonlyMap<string, string>;
	readonly tags: ReadonlyArray<{
		readonly repository: string;
		readonly tag: string;
		readonly entry: ImageTagEntry;
	}>;
};

/** Every file of the bundle its image section lists. */
export function imageFilePaths(bundle: BundleManifest): Set<string> {
	return new Set((bundle.images?.blobs ?? []).map((entry) => blobPath(entry.digest)));
}

async function sha256Of(file: string): Promise<string> {
	const hash = createHash('sha256');
	for await (const chunk of createReadStream(file)) {
		hash.update(chunk as Buffer);
	}

	return `sha256:${hash.digest('hex')}`;
}

/** The entry of a sound blob rebuilt from its bytes, or the reason it is not sound. */
async function checkBlob(
	listed: ImageBlobEntry,
	file: BundleFile,
	staged: string,
): Promise<Omit<ImageBlobEntry, 'publishedAt'> | string> {
	const where = blobPath(listed.digest);
	const actual = await sha256Of(staged);
	if (actual !== listed.digest) {
		return `${where} in the bundle does not match its digest (its sha256 is ${actual}); the bundle was tampered with or damaged`;
	}

	const base = {digest: listed.digest, size: file.size};
	if (listed.mediaType === undefined) {
		return base;
	}

	try {
		const parsed = parseManifest(await readFile(staged), listed.mediaType, where);
		const named =
			parsed.kind === 'index'
				? parsed.manifests.map((entry) => entry.digest)
				: // Foreign layers are pulled from their own URLs, never mirrored: sync lists them nowhere.
					[
						parsed.config.digest,
						...parsed.layers.filter((entry) => !entry.foreign).map((entry) => entry.digest),
					];
		const refs = [...new Set(listed.refs ?? [])];
		// A manifest's refs are all it names (the mirror holds a whole platform image); an
		// index's are the platforms kept.
		const complete = parsed.kind === 'index' || new Set(named).size === refs.length;
		if (!complete || !refs.every((ref) => named.includes(ref))) {
			return `${where} in the bundle: its listed refs are not what its bytes name`;
		}

		return {
			...base,
			mediaType: parsed.mediaType,
			refs,
			...(typeof listed.platform === 'string' ? {platform: listed.platform} : {}),
		};
	} catch (error) {
		return describeError(error);
	}
}

/** Check every image blob of the bundle; never throws for a bad blob (the tags reaching it fail on publish). */
export async function checkBundleImages(
	bundle: BundleManifest,
	staged: ReadonlyMap<string, string>,
): Promise<BundleImagesChecked> {
	const files = new Map(bundle.files.map((file) => [file.path, file]));
	const blobs = new Map<string, Blob>();
	const broken = new Map<string, string>();
	for (const listed of bundle.images?.blobs ?? []) {
		const path = blobPath(listed.digest);
		const local = staged.get(path) as string;
		const file = files.get(path) as BundleFile;
		const checked = await checkBlob(listed, file, local).catch((error: unknown) => describeError(error));
		if (typeof checked === 'string') {
			broken.set(listed.digest, checked);
		} else {
			blobs.set(listed.digest, {entry: checked, file, staged: local});
		}
	}

	const tags = Object.entries(bundle.images?.repositories ?? {}).flatMap(([repository, held]) =>
		Object.entries(held).map(([tag, entry]) => ({repository, tag, entry})),
	);
	return {blobs, broken, tags};
}

/** What publishing a bundle's images did; `failed` are the tags refused, with why. */
export type ImageImportCounts = {
	readonly tags: {readonly published: number; readonly present: number};
	readonly blobs: {readonly published: number; readonly present: number};
	readonly failed: ReadonlyArray<{readonly path: string; readonly reason: string}>;
	readonly bytes: number;
};

const dateOr = (text: string, fallback: Date) => {
	const date = new Date(text);
	return Number.isNaN(date.getTime()) ? fallback : date;
};

/**
Publish every tag whose closure is sound and at hand, blobs first, tags last. A tag
this mirror set later than the bundle's source did is kept (`warn` says so): an
older bundle imported late must not move tags back.
*/
export async function publishBundleImages(
	store: MirrorStore,
	writer: MirrorWriter,
	checked: BundleImagesChecked,
	warn: (message: string) => void = () => undefined,
): Promise<ImageImportCounts> {
	const held = writer.manifest.images;
	const now = new Date();
	// A listed blob whose file is gone or short is published again from the bundle.
	const usable = new Set<string>();
	for (const digest of checked.blobs.keys()) {
		const entry = held.blobs[digest];
		if (entry && (await store.stat(blobPath(digest)))?.size === entry.size) {
			usable.add(digest);
		}
	}

	const entryOf = (digest: string) => checked.blobs.get(digest)?.entry ?? held.blobs[digest];
	// An index held with fewer platforms than the bundle's (the source selected more since).
	const widens = (digest: string) =>
		(checked.blobs.get(digest)?.entry.refs ?? []).some((ref) => !held.blobs[digest]?.refs?.includes(ref));
	const heldAsIs = (digest: string) =>
		held.blobs[digest] !== undefined && (usable.has(digest) || !checked.blobs.has(digest)) && !widens(digest);
	const problems = new Map<string, string | undefined>();
	const problemOf = (digest: string): string | undefined => {
		if (problems.has(digest)) {
			return problems.get(digest);
		}

		problems.set(digest, undefined);
		const blob = checked.blobs.get(digest);
		let problem: string | undefined;
		if (heldAsIs(digest)) {
			problem = undefined;
		} else if (checked.broken.has(digest)) {
			problem = checked.broken.get(digest);
		} else if (!blob) {
			problem = `needs ${digest}, which is neither in the bundle nor in this mirror; export again without --since (or with an earlier date) for this mirror`;
		} else {
			// An index names manifests: one listed as a plain blob would bring none of its own refs along.
			const index = indexTypes.includes(blob.entry.mediaType ?? '');
			const plain = (blob.entry.refs ?? []).find((ref) => index && entryOf(ref) && !entryOf(ref)?.mediaType);
			problem = plain
				? `${blobPath(digest)} in the bundle names ${plain}, which the bundle lists as a plain blob, not a manifest`
				: (blob.entry.refs ?? []).map(problemOf).find((each) => each !== undefined);
		}

		problems.set(digest, problem);
		return problem;
	};

	const failed: Array<{path: string; reason: string}> = [];
	const going: Array<(typeof checked.tags)[number]> = [];
	let present = 0;
	for (const each of [...checked.tags].sort((a, b) =>
		`${a.repository}:${a.tag}`.localeCompare(`${b.repository}:${b.tag}`),
	)) {
		const {repository, tag, entry} = each;
		const current = held.repositories[repository]?.[tag];
		if (current?.digest === entry.digest && !widens(entry.digest)) {
			present++;
			if (dateOr(entry.refreshedAt, now) > new Date(current.refreshedAt)) {
				writer.refreshImageTag(repository, tag, dateOr(entry.refreshedAt, now));
			}

			continue;
		}

		if (current && Date.parse(current.publishedAt) > dateOr(entry.publishedAt, now).getTime()) {
			warn(
				`${repository}:${tag}: kept this mirror's ${current.digest}, set later than the bundle's ${entry.digest}`,
			);
			present++;
			continue;
		}

		const problem =
			problemOf(entry.digest) ??
			(entryOf(entry.digest)?.mediaType
				? undefined
				: `${blobPath(entry.digest)} in the bundle is a plain blob, not a manifest or index a tag can point to`);
		if (problem !== undefined) {
			failed.push({path: `${repository}:${tag}`, reason: problem});
		} else {
			going.push(each);
		}
	}

	// Named before namers: a depth-first walk publishing each blob after what it names.
	const counts = {published: 0, present: 0, bytes: 0};
	const done = new Set<string>();
	const publish = async (digest: string): Promise<void> => {
		if (done.has(digest)) {
			return;
		}

		done.add(digest);
		const blob = checked.blobs.get(digest);
		if (heldAsIs(digest)) {
			counts.present += blob ? 1 : 0;
			return;
		}

		const {file, staged, entry: listed} = blob as Blob;
		// Widening a held index keeps the platforms it already named.
		const refs = listed.refs && [...new Set([...(held.blobs[digest]?.refs ?? []), ...listed.refs])];
		const entry = refs ? {...listed, refs} : listed;
		for (const ref of entry.refs ?? []) {
			await publish(ref);
		}

		await writer.publishImageBlob(
			{
				relative: blobPath(digest),
				from: {partPath: staged},
				sha512: file.sha512,
				modified: dateOr(file.modified, now),
			},
			entry,
		);
		counts.published++;
		counts.bytes += entry.size;
	};
	for (const {entry} of going) {
		await publish(entry.digest);
	}

	for (const {repository, tag, entry} of going) {
		const top = held.blobs[entry.digest] as ImageBlobEntry;
		writer.tagImage(
			repository,
			tag,
			{
				digest: entry.digest,
				mediaType: top.mediaType ?? entry.mediaType,
				size: top.size,
				platforms: Array.isArray(entry.platforms) ? entry.platforms.map(String) : [],
				...(Array.isArray(entry.skipped) && entry.skipped.length > 0
					? {skipped: entry.skipped.map(String)}
					: {}),
			},
			dateOr(entry.publishedAt, now),
		);
		if (dateOr(entry.refreshedAt, now) > dateOr(entry.publishedAt, now)) {
			writer.refreshImageTag(repository, tag, dateOr(entry.refreshedAt, now));
		}
	}

	return {
		tags: {published: going.length, present},
		blobs: {published: counts.published, present: counts.present},
		failed,
		bytes: counts.bytes,
	};
}
