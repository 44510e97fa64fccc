/**
Work done once per view of the mirror: sorted artifact lists, aliases, rendered
parts of pages and API answers. Kept beside the snapshot they came from (weakly),
so a new manifest starts afresh and the old results go with the old snapshot.
*/
import type {ManifestEntry} from '../store/manifest.js';
import type {Snapshot} from './mirror-index.js';

const memos = new WeakMap<Snapshot, Map<string, unknown>>();

/** `make()` for `snapshot`, computed on the first call per `name` (a fixed name, not request data). */
export function perSnapshot<T>(snapshot: Snapshot, name: string, make: () => T): T {
	let memo = memos.get(snapshot);
	if (!memo) {
		memo = new Map();
		memos.set(snapshot, memo);
	}

	if (!memo.has(name)) {
		memo.set(name, make());
	}

	return memo.get(name) as T;
}

/**
Every artifact by product, newest version first, then path: the API's order. Versions
are compared by their rank in `snapshot.versions` (already sorted), not by parsing
them again for each of the n·log n comparisons.
*/
export function sortedArtifacts(snapshot: Snapshot): readonly ManifestEntry[] {
	return perSnapshot(snapshot, 'sorted-artifacts', () => {
		const rank = new Map(snapshot.versions.map((version, index) => [version, index]));
		const rankOf = (version: string) => rank.get(version) ?? -1;
		// A collator is localeCompare's order at a fraction of its cost per comparison.
		const {compare} = new Intl.Collator();
		return [...snapshot.byPath.values()].sort(
			(a, b) =>
				compare(a.product, b.product) || rankOf(b.version) - rankOf(a.version) || compare(a.path, b.path),
		);
	});
}

/** Artifacts of each version, for artifacts-api's search. */
export function artifactsByVersion(snapshot: Snapshot): ReadonlyMap<string, readonly ManifestEntry[]> {
	return perSnapshot(snapshot, 'by-version', () => {
		const byVersion = new Map<string, ManifestEntry[]>();
		for (const entry of snapshot.byPath.values()) {
			const list = byVersion.get(entry.version) ?? [];
			list.push(entry);
			byVersion.set(entry.version, list);
		}

		return byVersion;
	});
}
