/**
Choosing manifest entries by product, version and platform, with the same syntax
as sync's selection. Versions resolve against what the mirror holds, so this
never needs the network.
*/

import type {Selection} from '../config/types.js';
import type {ManifestEntry} from '../store/manifest.js';
import {resolveVersions} from '../versions.js';

export type {Selection};

/** The entries a selection takes, and warnings for version specs that matched nothing. */
export function selectEntries(
	entries: Iterable<ManifestEntry>,
	selection: Selection,
): {selected: ManifestEntry[]; warnings: string[]} {
	const all = [...entries];
	let versions: Set<string> | undefined;
	let warnings: string[] = [];
	if (selection.versions) {
		const resolved = resolveVersions(selection.versions, [...new Set(all.map((entry) => entry.version))]);
		versions = new Set(resolved.versions);
		warnings = resolved.warnings;
	}

	const selected = all.filter(
		(entry) =>
			(!selection.products || selection.products.includes(entry.product)) &&
			(!selection.platforms || selection.platforms.includes(entry.platform)) &&
			(!versions || versions.has(entry.version)) &&
			(selection.fips !== false || !entry.fips),
	);
	return {selected: selected.sort((a, b) => a.path.localeCompare(b.path)), warnings};
}
