/**
The image plan: a pure function from the `--images` requests, the stack versions and
the manifest to the tags a run asks for. Every tag is asked for on every run (a tag
may move upstream); what to download is known only once its manifest is read
(tag.ts). An untagged request takes the stack versions as its tags.
*/
import type {ManifestView} from '../store/manifest.js';
import type {ImageRequest} from './catalog.js';

/** One tag of one repository to sync; `path` is `repository:tag`, the name reports use. */
export type ImageAction = {
	readonly kind: 'fetch' | 'refresh';
	readonly repository: string;
	readonly tag: string;
	readonly path: string;
	readonly reason: string;
	/**
	A stack version given to an untagged repository: a tag upstream lacks is a warning
	(beats/elastic-agent stops at 8.x, elastic-agent/elastic-agent starts at 9.0), unless
	the repository has none of the versions.
	*/
	readonly fromVersions: boolean;
};

/** The tags `requests` select with `stackVersions` for untagged ones, each once, in request order. */
export function planImages(
	requests: readonly ImageRequest[],
	stackVersions: readonly string[],
	manifest: ManifestView,
): ImageAction[] {
	const seen = new Set<string>();
	const actions: ImageAction[] = [];
	for (const request of requests) {
		for (const tag of request.tag === undefined ? stackVersions : [request.tag]) {
			const path = `${request.repository}:${tag}`;
			if (seen.has(path)) {
				continue;
			}

			seen.add(path);
			const held = manifest.images.repositories[request.repository]?.[tag];
			actions.push(
				held
					? {
							kind: 'refresh',
							repository: request.repository,
							tag,
							path,
							fromVersions: request.tag === undefined,
							reason: `held ${held.digest.slice(0, 19)} (${held.platforms.join(', ')}), refreshed ${held.refreshedAt}; asked again in case the tag moved`,
						}
					: {
							kind: 'fetch',
							repository: request.repository,
							tag,
							path,
							fromVersions: request.tag === undefined,
							reason: request.tag === undefined ? `new tag, stack version ${tag}` : 'new tag',
						},
			);
		}
	}

	return actions;
}
