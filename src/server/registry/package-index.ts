/**
The package versions of one view of the mirror, as the registry routes look them
up: every version's filter facts in manifest order, and each version by name and
version. Built once per snapshot, so a sync that publishes a package shows up with
the manifest that lists it, on a directory and an object store alike.
*/
import semver from 'semver';
import {type Candidate, candidateOf} from '../../packages/registry-search.js';
import type {PackageEntry} from '../../store/manifest.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';

/** The packages of one snapshot. */
export type PackageIndex = {
	readonly candidates: readonly Candidate[];
	/** `<name>\n<version>` to its entry. */
	readonly byNameVersion: ReadonlyMap<string, PackageEntry>;
	/** Names the mirror holds, for metric labels clients cannot grow. */
	readonly names: ReadonlySet<string>;
};

/** The key of `byNameVersion`. */
export function nameVersionKey(name: string, version: string): string {
	return `${name}\n${version}`;
}

/** The package index of `snapshot`. */
export function packageIndex(snapshot: Snapshot): PackageIndex {
	return perSnapshot(snapshot, 'package-index', () => {
		const entries = Object.values(snapshot.manifest.packages ?? {});
		return {
			candidates: entries.map(candidateOf),
			byNameVersion: new Map(entries.map((entry) => [nameVersionKey(entry.name, entry.version), entry])),
			names: new Set(entries.map((entry) => entry.name)),
		};
	});
}

/** Every package version, by name, newest version first. */
export function sortedPackages(snapshot: Snapshot): readonly PackageEntry[] {
	return perSnapshot(snapshot, 'sorted-packages', () =>
		Object.values(snapshot.manifest.packages ?? {}).sort((a, b) =>
			a.name === b.name ? semver.rcompare(a.version, b.version) : a.name < b.name ? -1 : 1,
		),
	);
}

/** A field of a version's search entry, by path (`conditions`, `kibana`, `version`). */
export function searchField(search: Readonly<Record<string, unknown>>, ...keys: string[]): unknown {
	let value: unknown = search;
	for (const key of keys) {
		value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
	}

	return value;
}

/** The Kibana versions a package version declares it works with (null: any). */
export function kibanaCondition(entry: PackageEntry): string | null {
	const value = searchField(entry.search, 'conditions', 'kibana', 'version');
	return typeof value === 'string' && value !== '' ? value : null;
}

/** The package's title, or its name when it has none. */
export function packageTitle(entry: PackageEntry): string {
	const title = searchField(entry.search, 'title');
	return typeof title === 'string' && title !== '' ? title : entry.name;
}
