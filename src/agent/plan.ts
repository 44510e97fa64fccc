/**
The plan: a pure function from what is wanted and what the mirror holds to what a
run must do. Nothing here touches the disk or the network, so `--dry-run` and the
real run decide the same way.
*/

import type {ManifestEntry, ManifestView} from '../store/manifest.js';
import {type ArtifactRef, isMutableVersion} from './catalog.js';

/** What the tree holds at one artifact path, from one stat per file. */
export type LocalFile = {
	/** Size of the artifact on disk, or undefined when absent. */
	readonly size: number | undefined;
	/** Whether both `.sha512` and `.asc` are on disk. */
	readonly sidecars: boolean;
};

/** One step of a run. */
export type Action =
	/** Published and intact by size: nothing to do. */
	| {readonly kind: 'skip'; readonly ref: ArtifactRef; readonly reason: string}
	/** Published, but the version can be rebuilt upstream: compare the upstream `.sha512`. */
	| {
			readonly kind: 'refresh';
			readonly ref: ArtifactRef;
			readonly reason: string;
			readonly entry: ManifestEntry;
	  }
	/** On disk with sidecars but unknown to the manifest: verify locally, then record. */
	| {readonly kind: 'adopt'; readonly ref: ArtifactRef; readonly reason: string}
	/** Download, verify and publish. `replacing` when an artifact is on disk at that path. */
	| {readonly kind: 'fetch'; readonly ref: ArtifactRef; readonly reason: string; readonly replacing: boolean};

/** Decide the action for every wanted artifact. */
export function plan(
	wanted: readonly ArtifactRef[],
	manifest: ManifestView,
	local: ReadonlyMap<string, LocalFile>,
): Action[] {
	return wanted.map((ref): Action => {
		const entry = manifest.files[ref.path];
		const onDisk = local.get(ref.path) ?? {size: undefined, sidecars: false};
		const present = onDisk.size !== undefined;
		if (entry) {
			if (!present) {
				return {kind: 'fetch', ref, reason: 'in the manifest but missing on disk', replacing: false};
			}

			if (onDisk.size !== entry.size) {
				return {kind: 'fetch', ref, reason: 'size on disk differs from the manifest', replacing: true};
			}

			if (!onDisk.sidecars) {
				return {kind: 'fetch', ref, reason: 'a sidecar is missing on disk', replacing: true};
			}

			if (isMutableVersion(ref.version)) {
				return {kind: 'refresh', ref, reason: 'prerelease: checking upstream for a rebuild', entry};
			}

			return {kind: 'skip', ref, reason: 'already published'};
		}

		if (present && onDisk.sidecars) {
			return {kind: 'adopt', ref, reason: 'on disk but not in the manifest: verifying it'};
		}

		if (present) {
			return {kind: 'fetch', ref, reason: 'on disk without its sidecars', replacing: true};
		}

		return {kind: 'fetch', ref, reason: 'new', replacing: false};
	});
}
