/** Counting what a run's files came to, and the versions of which nothing exists upstream. */
import type {Failure} from '../mirror/events.js';
import type {ArtifactRef} from './catalog.js';
import type {Outcome} from './context.js';

/** How many of `outcomes` are `kind`. */
export function countOf(outcomes: readonly Outcome[], kind: Outcome): number {
	return outcomes.filter((outcome) => outcome === kind).length;
}

/** Failures for versions of which nothing at all exists upstream: most likely a typo. */
export function emptyVersions(wanted: readonly ArtifactRef[], outcomes: readonly Outcome[]): Failure[] {
	const byVersion = new Map<string, Outcome[]>();
	wanted.forEach((ref, index) => {
		if (!ref.fips) {
			const list = byVersion.get(ref.version) ?? [];
			list.push(outcomes[index] ?? 'failed');
			byVersion.set(ref.version, list);
		}
	});
	return [...byVersion]
		.filter(([, list]) => list.length > 0 && list.every((outcome) => outcome === 'not-published'))
		.map(([version]) => ({
			path: version,
			reason: `nothing is published upstream for version ${version}; is the version right?`,
			code: 'ERR_NO_SUCH_VERSION',
		}));
}
