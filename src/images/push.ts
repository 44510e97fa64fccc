/**
`push-images`: copy every mirrored tag into an existing registry under the names ECK
pulls (the default names, or the flat `--container-repository` ones). Tags go one
after another; within a tag, blobs go up a few at once, then the manifests it names,
then the tag. A blob the destination already has is skipped (HEAD), and one pushed
to another repository in this run is mounted from there when the registry agrees. A
tag that already points at the digest to push is left as it is. One tag failing
does not stop the others. The mirror is only read (no lock; refused while a sync
holds it).
*/
import pLimit from 'p-limit';
import {describeError, MirrorError, UsageError} from '../errors.js';
import {readUsableManifest} from '../store/manifest.js';
import {withReadStore} from '../store/open.js';
import type {MirrorStore, StoreOptions} from '../store/store.js';
import type {HttpConfig} from '../upstream/types.js';
import {blobPath} from './catalog.js';
import {loadCredentials} from './credentials.js';
import {createPushHttp} from './push-http.js';
import {planTag, type TagPlan, targetCollisions, targetName} from './push-plan.js';
import {createRegistryDestination, type RegistryDestination} from './registry-push.js';

/** What push-images runs with. */
export type PushOptions = StoreOptions & {
	/** The destination registry's root URL. */
	readonly to: string;
	readonly containerRepository?: string | undefined;
	readonly concurrency: number;
	readonly dryRun: boolean;
	readonly credentialFiles: readonly string[];
	readonly http: HttpConfig;
	/** Hears of each tag as it is done (or planned, in a dry run). */
	readonly onTag?: ((report: TagReport) => void) | undefined;
	readonly onWarning?: ((message: string) => void) | undefined;
};

/** Blob counts of one tag or of the run. */
export type BlobCounts = {
	/** Uploaded, and their bytes. */
	uploaded: number;
	bytes: number;
	/** Mounted from another repository of the destination. */
	mounted: number;
	/** Already in the destination repository. */
	present: number;
};

/** What happened to one tag. */
export type TagReport = {
	readonly repository: string;
	readonly tag: string;
	/** `host/name:tag` in the destination. */
	readonly reference: string;
	/** pushed; unchanged (the tag already pointed there); planned (dry run); failed. */
	readonly result: 'pushed' | 'unchanged' | 'planned' | 'failed';
	/** The digest the tag has in the destination (or would have). */
	readonly digest?: string | undefined;
	/** Set when the index was reduced: the mirror's digest and the platforms held. */
	readonly reduced?: {readonly from: string; readonly platforms: readonly string[]} | undefined;
	/** In a dry run: every blob and its size (nothing was asked of the destination). */
	readonly blobs: BlobCounts & {readonly total: number; readonly totalBytes: number};
	/** Manifests put by digest (the tag's own excluded). */
	readonly manifests: number;
	readonly error?: string | undefined;
	readonly code?: string | undefined;
};

/** What push-images did. */
export type PushSummary = {
	readonly registry: string;
	readonly tags: number;
	readonly pushed: number;
	readonly unchanged: number;
	readonly failed: number;
	readonly dryRun: boolean;
	readonly blobs: BlobCounts;
};

function zeroCounts(): BlobCounts {
	return {uploaded: 0, bytes: 0, mounted: 0, present: 0};
}

function totals(plan: TagPlan) {
	return {total: plan.blobs.length, totalBytes: plan.blobs.reduce((sum, blob) => sum + blob.size, 0)};
}

/** Where each blob is known to be in the destination, by this run: digest → repository names. */
type Known = Map<string, Set<string>>;

function remember(known: Known, digest: string, name: string): void {
	const names = known.get(digest) ?? new Set<string>();
	names.add(name);
	known.set(digest, names);
}

/** Push one planned tag; returns the blob counts and manifests put, or 'unchanged'. */
async function pushTag(
	destination: RegistryDestination,
	store: MirrorStore,
	plan: TagPlan,
	known: Known,
	concurrency: number,
): Promise<{counts: BlobCounts; manifests: number} | 'unchanged'> {
	const {target} = plan;
	// A registry keeps a manifest only with everything it names, so a tag already there is complete.
	if ((await destination.manifestDigest(target, plan.tag)) === plan.top.digest) {
		for (const digest of [
			...plan.blobs.map((blob) => blob.digest),
			...plan.manifests.map((each) => each.digest),
		]) {
			remember(known, digest, target);
		}

		return 'unchanged';
	}

	const counts = zeroCounts();
	const limit = pLimit(concurrency);
	const outcomes = await Promise.allSettled(
		plan.blobs.map((blob) =>
			limit(async () => {
				if (known.get(blob.digest)?.has(target) || (await destination.hasBlob(target, blob.digest))) {
					counts.present++;
				} else {
					const from = [...(known.get(blob.digest) ?? [])].find((name) => name !== target);
					const outcome = await destination.putBlob(
						target,
						blob,
						() => store.openRead(blobPath(blob.digest)),
						from,
					);
					if (outcome === 'mounted') {
						counts.mounted++;
					} else {
						counts.uploaded++;
						counts.bytes += blob.size;
					}
				}

				remember(known, blob.digest, target);
			}),
		),
	);
	const failure = outcomes.find((outcome) => outcome.status === 'rejected');
	if (failure) {
		throw failure.reason;
	}

	let manifests = 0;
	for (const manifest of plan.manifests) {
		if (!known.get(manifest.digest)?.has(target)) {
			if ((await destination.manifestDigest(target, manifest.digest)) !== manifest.digest) {
				await destination.putManifest(target, manifest.digest, manifest);
				manifests++;
			}

			remember(known, manifest.digest, target);
		}
	}

	await destination.putManifest(target, plan.tag, plan.top);
	return {counts, manifests};
}

/**
Push every tag the mirror holds to `options.to`. Throws UsageError when two
repositories would put the same tag under one destination name, and whatever
stops the run as a whole (the mirror unreadable, the registry unreachable); a tag
that fails is reported (result `failed`) and the others go on.
*/
export async function pushImages(options: PushOptions): Promise<PushSummary> {
	const destinationHost = new URL(options.to).host;
	return withReadStore(
		options,
		(message) => options.onWarning?.(message),
		async (store) => {
			const {images} = await readUsableManifest(store);
			const collision = targetCollisions(images, options.containerRepository)[0];
			if (collision) {
				const [reference, first, second] = collision;
				throw new UsageError(
					`--container-repository ${options.containerRepository} puts both ${first} and ${second} at ${reference}; push without --container-repository (ECK's default names keep them apart)`,
				);
			}

			const http = options.dryRun ? undefined : createPushHttp(options.http);
			try {
				const destination = http
					? createRegistryDestination(
							options.to,
							http,
							loadCredentials(options.credentialFiles),
							options.http,
						)
					: undefined;
				const known: Known = new Map();
				const summary = {pushed: 0, unchanged: 0, failed: 0, tags: 0, blobs: zeroCounts()};
				const tags = Object.entries(images.repositories)
					.sort(([a], [b]) => a.localeCompare(b))
					.flatMap(([repository, entries]) =>
						Object.keys(entries)
							.sort()
							.map((tag) => ({repository, tag})),
					);
				if (tags.length > 0) {
					await destination?.ping();
				}
				for (const {repository, tag} of tags) {
					summary.tags++;
					const target = targetName(repository, options.containerRepository);
					const base = {repository, tag, reference: `${destinationHost}/${target}:${tag}`};
					let plan: TagPlan | undefined;
					try {
						plan = await planTag(images, repository, tag, target, (digest) =>
							store.readFile(blobPath(digest)),
						);
						const planned = {...base, digest: plan.top.digest, reduced: plan.reduced};
						if (!destination) {
							options.onTag?.({
								...planned,
								result: 'planned',
								blobs: {...zeroCounts(), ...totals(plan)},
								manifests: plan.manifests.length,
							});
							continue;
						}

						const outcome = await pushTag(destination, store, plan, known, options.concurrency);
						if (outcome === 'unchanged') {
							summary.unchanged++;
							options.onTag?.({
								...planned,
								result: 'unchanged',
								blobs: {...zeroCounts(), ...totals(plan)},
								manifests: 0,
							});
							continue;
						}

						summary.pushed++;
						for (const key of ['uploaded', 'bytes', 'mounted', 'present'] as const) {
							summary.blobs[key] += outcome.counts[key];
						}

						options.onTag?.({
							...planned,
							result: 'pushed',
							blobs: {...outcome.counts, ...totals(plan)},
							manifests: outcome.manifests,
						});
					} catch (error) {
						summary.failed++;
						options.onTag?.({
							...base,
							...(plan ? {digest: plan.top.digest, reduced: plan.reduced} : {}),
							result: 'failed',
							blobs: {...zeroCounts(), ...(plan ? totals(plan) : {total: 0, totalBytes: 0})},
							manifests: 0,
							error: describeError(error),
							code: error instanceof MirrorError ? error.code : 'ERR_INTERNAL',
						});
					}
				}

				return {registry: destinationHost, dryRun: options.dryRun, ...summary};
			} finally {
				http?.close();
			}
		},
	);
}
