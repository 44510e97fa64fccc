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
		// A collator is localeCompare's order at a fraction of its cost per comparison.
		const {compare} = new Intl.Collator();
		// Bucketed by product and version rank, so that only the few files of one version
		// are compared: one n·log n sort of 100,000 held the event loop for 250 ms.
		const buckets = new Map<string, Map<number, ManifestEntry[]>>();
		for (const entry of snapshot.byPath.values()) {
			let product = buckets.get(entry.product);
			if (!product) {
				product = new Map();
				buckets.set(entry.product, product);
			}

			const versionRank = rank.get(entry.version) ?? -1;
			const bucket = product.get(versionRank);
			if (bucket) {
				bucket.push(entry);
			} else {
				product.set(versionRank, [entry]);
			}
		}

		const sorted: ManifestEntry[] = [];
		for (const name of [...buckets.keys()].sort(compare)) {
			const product = buckets.get(name) as Map<number, ManifestEntry[]>;
			for (const versionRank of [...product.keys()].sort((a, b) => b - a)) {
				sorted.push(...(product.get(versionRank) as ManifestEntry[]).sort((a, b) => compare(a.path, b.path)));
			}
		}

		return sorted;
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
