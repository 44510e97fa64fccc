/**
prune: retention. A pure plan (which artifacts and package versions go, and why)
from the manifest and the rules, then deletion under the sync lock: artifact first,
then its sidecars (the reverse of publishing, so a reader never finds an artifact
without them); a package version's zip first, its info last; Defend manifests
before the artifacts only they named (prune-defend.ts; every run removes artifacts
no kept manifest names); image tags, then the blobs no kept tag reaches, indexes
and manifests before what they name (prune-images.ts; every run collects blobs no
tag reaches). Keys are never touched. Dry run unless told otherwise.
*/
import semver from 'semver';
import {selectEntries} from '../agent/select.js';
import type {PruneRules} from '../config/types.js';
import {MirrorError} from '../errors.js';
import {openWriter} from '../mirror/writer.js';
import type {ManifestEntry} from '../store/manifest.js';
import {withLockedStore, withReadStore} from '../store/open.js';
import type {MirrorStore, StoreOptions} from '../store/store.js';
import {type DefendPrunePlan, defendBytes, planDefendPrune} from './prune-defend.js';
import {type ImagePrunePlan, imageBytes, planImagePrune} from './prune-images.js';
import {type PackagePrunePlan, packageBytes, planPackagePrune} from './prune-packages.js';

export type {PruneRules};

/** One artifact to delete and why. */
export type PruneAction = {readonly entry: ManifestEntry; readonly reason: string};

/** The release line an entry belongs to for --keep-latest: `elastic-agent 9.1`. */
function lineOf(entry: ManifestEntry): string {
	const parsed = semver.parse(entry.version);
	return `${entry.product}${entry.fips ? '-fips' : ''} ${parsed ? `${parsed.major}.${parsed.minor}` : entry.version}`;
}

/**
The plan, pure. An artifact goes when the selection does not take it, or when
keep rules are given and none of them keeps it.
*/
export function planPrune(entries: readonly ManifestEntry[], rules: PruneRules): PruneAction[] {
	const keep = new Set<string>();
	const hasKeepRules = rules.keepLatest !== undefined || rules.keepVersions !== undefined;
	if (rules.keepLatest !== undefined) {
		const lines = new Map<string, Set<string>>();
		for (const entry of entries) {
			const line = lineOf(entry);
			const versions = lines.get(line) ?? new Set();
			versions.add(entry.version);
			lines.set(line, versions);
		}

		for (const [line, versions] of lines) {
			for (const version of [...versions]
				.sort((a, b) => semver.compareBuild(b, a))
				.slice(0, rules.keepLatest)) {
				keep.add(`${line}|${version}`);
			}
		}
	}

	const kept = rules.keepVersions
		? new Set(selectEntries(entries, {versions: rules.keepVersions}).selected.map((entry) => entry.path))
		: new Set<string>();
	const selected = rules.selection
		? new Set(selectEntries(entries, rules.selection).selected.map((entry) => entry.path))
		: undefined;

	const actions: PruneAction[] = [];
	for (const entry of [...entries].sort((a, b) => a.path.localeCompare(b.path))) {
		const line = lineOf(entry);
		if (selected && !selected.has(entry.path)) {
			actions.push({entry, reason: 'no longer selected by the sync config'});
		} else if (hasKeepRules && !keep.has(`${line}|${entry.version}`) && !kept.has(entry.path)) {
			actions.push({
				entry,
				reason:
					rules.keepLatest === undefined
						? 'not in --keep-versions'
						: `older than the newest ${rules.keepLatest} of ${line}`,
			});
		}
	}

	return actions;
}

/** What prune decided and, with `yes`, did. */
export type PruneResult = {
	readonly actions: readonly PruneAction[];
	/** Package versions to delete, and those spared because a kept version requires them. */
	readonly packages: PackagePrunePlan;
	/** Defend versions (manifests) and artifacts to delete. */
	readonly defend: DefendPrunePlan;
	/** Image tags to unlist and blobs to delete. */
	readonly images: ImagePrunePlan;
	readonly bytes: number;
	readonly deleted: boolean;
};

/**
Plan and, when `yes`, delete under the sync lock, so the plan matches what is
deleted; `warn` hears of a dead holder's lock taken over. Without `yes` it only
reads: no lock is taken and nothing is written (a read-only mirror works), and it
refuses (LockHeldError) while a sync holds the lock. A missing mirror directory is
a UsageError either way.
*/
export async function prune(
	options: StoreOptions,
	rules: PruneRules,
	yes: boolean,
	warn: (message: string) => void = () => undefined,
): Promise<PruneResult> {
	const work = async (store: MirrorStore): Promise<PruneResult> => {
		const {writer, warning} = await openWriter(store);
		if (warning) {
			throw new MirrorError('ERR_MANIFEST', warning);
		}

		const actions = planPrune(Object.values(writer.manifest.files), rules);
		const packages = planPackagePrune(Object.values(writer.manifest.packages), rules);
		const defend = planDefendPrune(writer.manifest.defend, rules.defendVersions);
		const images = planImagePrune(writer.manifest.images, rules);
		const bytes =
			imageBytes(images) +
			actions.reduce((sum, action) => sum + action.entry.size, 0) +
			packages.actions.reduce((sum, action) => sum + packageBytes(action.entry), 0) +
			defendBytes(defend);
		const count =
			actions.length +
			packages.actions.length +
			defend.versions.length +
			defend.artifacts.length +
			images.tags.length +
			images.blobs.length;
		if (!yes || count === 0) {
			return {actions, packages, defend, images, bytes, deleted: false};
		}

		try {
			for (const {entry} of actions) {
				await writer.removeArtifact(entry.path);
			}

			for (const {entry} of packages.actions) {
				await writer.removePackage(entry.path);
			}

			for (const {entry} of defend.versions) {
				await writer.removeDefendVersion(entry.version);
			}

			for (const {entry} of defend.artifacts) {
				await writer.removeDefendArtifact(entry.path);
			}

			// Tags first: a blob goes only when nothing listed reaches it any more.
			for (const {repository, tag} of images.tags) {
				writer.untagImage(repository, tag);
			}

			// Written before any blob goes: a prune killed mid-way must not leave a listed tag with a hole.
			if (images.tags.length > 0) {
				await writer.save({always: true});
			}

			for (const {entry} of images.blobs) {
				await writer.removeImageBlob(entry.digest);
			}
		} finally {
			// What was deleted leaves the manifest even when a later deletion failed.
			await writer.save({always: true});
		}

		return {actions, packages, defend, images, bytes, deleted: true};
	};
	return yes ? withLockedStore(options, warn, work, {mustExist: true}) : withReadStore(options, warn, work);
}
