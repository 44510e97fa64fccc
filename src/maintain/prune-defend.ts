/**
prune for Elastic Defend protections: a pure plan. A version's manifest goes when
--unselected finds the sync config's --defend-artifacts no longer selects it
(resolved against the versions the mirror holds, like --versions for binaries). An
artifact goes when no manifest the mirror keeps names it: upstream replaces the
manifest roughly daily and the artifacts the previous one named stay served until
then, so an endpoint still on the previous manifest finds them. Removing those is
always safe (no kept manifest names them), which is why every prune run does it;
an artifact named by several versions' manifests stays while any of them is kept.
*/
import type {DefendArtifactEntry, DefendVersionEntry, ManifestView} from '../store/manifest.js';
import {resolveVersions, type VersionSpec} from '../versions.js';

/** The Defend versions and artifacts to delete, and why. */
export type DefendPrunePlan = {
	readonly versions: ReadonlyArray<{readonly entry: DefendVersionEntry; readonly reason: string}>;
	readonly artifacts: ReadonlyArray<{readonly entry: DefendArtifactEntry; readonly reason: string}>;
};

/** The bytes the plan frees. */
export function defendBytes(plan: DefendPrunePlan): number {
	return [...plan.versions, ...plan.artifacts].reduce((sum, {entry}) => sum + entry.size, 0);
}

/**
The plan, pure. `selected`: the sync config's Defend versions (--unselected with Defend
selected); absent, every held version stays and only unnamed artifacts go.
*/
export function planDefendPrune(
	defend: ManifestView['defend'],
	selected?: readonly VersionSpec[] | undefined,
): DefendPrunePlan {
	const held = Object.values(defend.versions).sort((a, b) => a.path.localeCompare(b.path));
	const keep = selected
		? new Set(resolveVersions(selected, Object.keys(defend.versions)).versions)
		: undefined;
	const versions = held
		.filter((entry) => keep && !keep.has(entry.version))
		.map((entry) => ({entry, reason: 'no longer selected by the sync config (--defend-artifacts)'}));
	const going = new Set(versions.map(({entry}) => entry.version));
	const named = new Set(
		held.filter((entry) => !going.has(entry.version)).flatMap((entry) => entry.artifacts),
	);
	const artifacts = Object.values(defend.artifacts)
		.filter((entry) => !named.has(entry.path))
		.sort((a, b) => a.path.localeCompare(b.path))
		.map((entry) => ({entry, reason: 'no Defend manifest the mirror keeps names it'}));
	return {versions, artifacts};
}
