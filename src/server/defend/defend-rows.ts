/**
The Elastic Defend versions a mirror holds, as the page, the API and the metrics show
them: each version's manifest with the count and size of the artifacts it names,
newest version first. Computed once per view of the mirror.
*/
import semver from 'semver';
import type {DefendVersionEntry} from '../../store/manifest.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';

/** A manifest not confirmed by upstream for this long is flagged: Endpoint then runs on old protections. */
export const defendStaleMs = 30 * 24 * 3600 * 1000;

/** One Defend version the mirror holds. */
export type DefendRow = {
	readonly entry: DefendVersionEntry;
	/** Artifacts its manifest names, and their total size in bytes. */
	readonly artifactCount: number;
	readonly artifactBytes: number;
};

/** The Defend versions of `snapshot`, newest first. */
export function defendRows(snapshot: Snapshot): readonly DefendRow[] {
	return perSnapshot(snapshot, 'defend-rows', () => {
		const {versions, artifacts} = snapshot.manifest.defend;
		const newestFirst = (a: string, b: string) =>
			semver.valid(a) && semver.valid(b) ? semver.rcompare(a, b) : b.localeCompare(a);
		return Object.values(versions)
			.sort((a, b) => newestFirst(a.version, b.version))
			.map((entry) => ({
				entry,
				artifactCount: entry.artifacts.length,
				artifactBytes: entry.artifacts.reduce((sum, path) => sum + (artifacts[path]?.size ?? 0), 0),
			}));
	});
}

/** Seconds since upstream last confirmed `entry`'s manifest, at `now` (ms). */
export function defendAgeSeconds(entry: DefendVersionEntry, now: number): number {
	const refreshed = Date.parse(entry.refreshedAt);
	return Number.isNaN(refreshed) ? 0 : Math.max(0, (now - refreshed) / 1000);
}

/** Whether `entry`'s manifest is older than `defendStaleMs` at `now`. */
export function isDefendStale(entry: DefendVersionEntry, now: number): boolean {
	return defendAgeSeconds(entry, now) * 1000 > defendStaleMs;
}

/**
The Defend policy's advanced settings that point Endpoint at `publicUrl`: one
`base_url` per OS, since Endpoint reads the one of the OS it runs on.
*/
export function defendSettings(publicUrl: string): string {
	return ['linux', 'mac', 'windows']
		.map((os) => `${os}.advanced.artifacts.global.base_url: ${publicUrl}`)
		.join('\n');
}
