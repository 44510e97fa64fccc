/**
The image phase of a locked sync run: every selected tag asked for at once, and the
blobs their manifests name fetched through the run's concurrency limit, each once
however many tags name it. The run (agent/run.ts) calls it after the other
collections, with the same context (store, writer, client, lock).
*/
import type {RunContext} from '../agent/context.js';
import type {ImagesSummary} from '../mirror/events.js';
import {blobPath, type PlatformText} from './catalog.js';
import {fetchImageBlob} from './fetch-blob.js';
import type {Descriptor} from './media.js';
import type {ImageAction} from './plan.js';
import type {RegistrySource} from './registry-source.js';
import {type BlobFetcher, syncImageTag} from './tag.js';

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

/** Run the image plan; blob downloads go through `limit` (the run's concurrency). */
export async function runImagePhase(
	context: RunContext,
	phase: ImagePhase,
	limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<ImagesSummary> {
	const fetches = new Map<string, Promise<'published' | 'present'>>();
	let present = 0;
	const fetchBlob: BlobFetcher = (repository, descriptor: Descriptor, why) => {
		const pending = fetches.get(descriptor.digest);
		if (pending) {
			return pending;
		}

		let outcome: Promise<'published' | 'present'>;
		if (context.writer.manifest.images.blobs[descriptor.digest]) {
			present++;
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
			syncImageTag(context, {source: phase.source, platforms: phase.platforms, fetchBlob}, action),
		),
	);
	const settled = await Promise.all([...fetches.values()].map((outcome) => outcome.catch(() => 'failed')));
	const count = (result: string) => results.filter((each) => each === result).length;
	return {
		...plannedImageCounts(phase.actions),
		updated: count('updated'),
		unchanged: count('unchanged'),
		skipped: count('skipped'),
		failed: count('failed'),
		blobs: {published: settled.filter((outcome) => outcome === 'published').length, present},
	};
}
