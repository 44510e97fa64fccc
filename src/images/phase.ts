/**
The image phase of a locked sync run: every selected tag asked for at once, and the
blobs their manifests name fetched through the run's concurrency limit, each once
however many tags name it. The run (agent/run.ts) calls it after the other
collections, with the same context (store, writer, client, lock).
*/
import {fail, type RunContext} from '../agent/context.js';
import {ImageError} from '../errors.js';
import type {ImagesSummary} from '../mirror/events.js';
import {blobPath, type PlatformText} from './catalog.js';
import {fetchImageBlob} from './fetch-blob.js';
import type {Descriptor} from './media.js';
import type {ImageAction} from './plan.js';
import type {RegistrySource} from './registry-source.js';
import {type BlobFetcher, syncImageTag, type TagResult} from './tag.js';

/** What a run needs to sync images: the source registry, the platforms kept, the plan. */
export type ImagePhase = {
	readonly source: RegistrySource;
	readonly platforms: readonly PlatformText[];
	readonly actions: readonly ImageAction[];
};

/** The counts of a dry run: what is selected and held, nothing done. */
export function plannedImageCounts(actions: readonly ImageAction[]): ImagesSummary {
	return {
		tags: actions.length,
		updated: 0,
		unchanged: 0,
		skipped: 0,
		failed: 0,
		blobs: {published: 0, present: 0},
	};
}

/**
Stack versions an untagged repository has no tag for: a warning per repository, or,
when it has none of them, a failure (a misspelt name, or the wrong repository for
these versions).
*/
function reportMissing(
	context: RunContext,
	actions: readonly ImageAction[],
	results: readonly TagResult[],
): number {
	let failed = 0;
	const byRepository = new Map<string, {missing: string[]; found: number}>();
	actions.forEach((action, index) => {
		if (action.fromVersions) {
			const entry = byRepository.get(action.repository) ?? {missing: [], found: 0};
			if (results[index] === 'missing') {
				entry.missing.push(action.tag);
			} else {
				entry.found++;
			}

			byRepository.set(action.repository, entry);
		}
	});
	for (const [repository, {missing, found}] of byRepository) {
		if (missing.length === 0) {
			continue;
		}

		if (found > 0) {
			context.emit({
				type: 'warning',
				message: `${repository} has no tag ${missing.join(', ')} upstream; skipped`,
			});
		} else {
			failed++;
			fail(
				context,
				repository,
				new ImageError(
					`${repository} has none of the tags ${missing.join(', ')} upstream (is the repository name right?)`,
					{code: 'ERR_IMAGE'},
				),
			);
		}
	}

	return failed;
}

/** Run the image plan; blob downloads go through `limit` (the run's concurrency). */
export async function runImagePhase(
	context: RunContext,
	phase: ImagePhase,
	limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<ImagesSummary> {
	// Every blob this run writes, downloaded or from memory, by digest: each is written once.
	const fetches = new Map<string, Promise<unknown>>();
	const publishOnce = (digest: string, publish: () => Promise<void>) => {
		let pending = fetches.get(digest);
		if (!pending) {
			pending = context.writer.manifest.images.blobs[digest] ? Promise.resolve() : publish();
			fetches.set(digest, pending);
		}

		return pending;
	};
	const heldBefore = new Set(Object.keys(context.writer.manifest.images.blobs));
	let present = 0;
	const fetchBlob: BlobFetcher = (repository, descriptor: Descriptor, why) => {
		const pending = fetches.get(descriptor.digest);
		if (pending) {
			return pending.then(() => 'present' as const);
		}

		let outcome: Promise<'published' | 'present'>;
		if (context.writer.manifest.images.blobs[descriptor.digest]) {
			present += heldBefore.has(descriptor.digest) ? 1 : 0;
			outcome = Promise.resolve('present');
		} else {
			// Known only now that a manifest named it: planned here, so progress counts it.
			context.emit({type: 'plan', action: 'fetch', path: blobPath(descriptor.digest), reason: why});
			outcome = limit(() => fetchImageBlob(context, phase.source, repository, descriptor));
		}

		fetches.set(descriptor.digest, outcome);
		return outcome;
	};

	const results = await Promise.all(
		phase.actions.map((action) =>
			syncImageTag(
				context,
				{source: phase.source, platforms: phase.platforms, fetchBlob, publishOnce},
				action,
			),
		),
	);
	const failedRepositories = reportMissing(context, phase.actions, results);
	await Promise.all([...fetches.values()].map((outcome) => outcome.catch(() => 'failed')));
	// Manifests and configs read whole are published without a download: count what is listed now and was not.
	const published = Object.keys(context.writer.manifest.images.blobs).filter(
		(digest) => !heldBefore.has(digest),
	);
	const count = (result: string) => results.filter((each) => each === result).length;
	return {
		...plannedImageCounts(phase.actions),
		updated: count('updated'),
		unchanged: count('unchanged'),
		skipped: count('skipped') + count('missing'),
		failed: count('failed') + failedRepositories,
		blobs: {published: published.length, present},
	};
}
