/**
prune for integration packages: a pure plan of which package versions go and why.
A version goes when --keep-package-versions does not keep it (the newest N of each
package, by semver) or when --unselected finds its package no longer named in the
sync config's --packages. A version that a kept version requires (its search entry's
requires.input or requires.content) is never removed: Kibana would fail to install
the kept one without it.
*/

import type {PruneRules} from '../config/types.js';
import {compareVersionsDescending} from '../packages/constraint.js';
import {requestTakes, withRequired} from '../packages/select.js';
import type {PackageEntry} from '../store/manifest.js';

/** One package version to delete and why. */
export type PackagePruneAction = {readonly entry: PackageEntry; readonly reason: string};

/** What the package plan decided: versions to delete, and versions spared because a kept one requires them. */
export type PackagePrunePlan = {
	readonly actions: PackagePruneAction[];
	readonly spared: Array<{readonly entry: PackageEntry; readonly requiredBy: string}>;
};

/** The bytes a package version takes in the tree: zip, signature and info. */
export function packageBytes(entry: PackageEntry): number {
	return entry.size + entry.signature.size + entry.info.size;
}

/** The plan, pure. Without package rules (keep N, or --unselected with packages selected), nothing goes. */
export function planPackagePrune(entries: readonly PackageEntry[], rules: PruneRules): PackagePrunePlan {
	const reasons = new Map<string, string>();
	if (rules.packages) {
		const requests = rules.packages;
		for (const entry of entries) {
			if (!requests.some((request) => requestTakes(request, entry.name, entry.version))) {
				reasons.set(entry.path, 'no longer selected by the sync config (--packages)');
			}
		}
	}

	const keep = rules.keepPackageVersions;
	if (keep !== undefined) {
		const byName = new Map<string, PackageEntry[]>();
		for (const entry of entries) {
			byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
		}

		for (const [name, versions] of byName) {
			const older = versions.sort((a, b) => compareVersionsDescending(a.version, b.version)).slice(keep);
			for (const entry of older) {
				if (!reasons.has(entry.path)) {
					reasons.set(entry.path, `older than the newest ${keep} versions of ${name}`);
				}
			}
		}
	}

	const kept = entries.filter((entry) => !reasons.has(entry.path));
	const {requiredBy} = withRequired(kept, entries);
	const actions: PackagePruneAction[] = [];
	const spared: PackagePrunePlan['spared'] = [];
	for (const entry of [...entries].sort((a, b) => a.path.localeCompare(b.path))) {
		const reason = reasons.get(entry.path);
		const needer = requiredBy.get(entry.path);
		if (reason !== undefined && needer !== undefined) {
			spared.push({entry, requiredBy: needer});
		} else if (reason !== undefined) {
			actions.push({entry, reason});
		}
	}

	return {actions, spared};
}
