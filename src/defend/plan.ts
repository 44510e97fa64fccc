/**
The Defend plan: a pure function from the resolved versions and the manifest to what
a run does with each. Every version's manifest is asked for on every run (upstream
changes it about daily): a held one conditionally, a new one whole. Which artifacts
to download is known only once a manifest is read (version.ts).
*/
import type {DefendVersionEntry, ManifestView} from '../store/manifest.js';
import {defendManifestPath} from './catalog.js';

/** One step of a run for one Defend version; `path` is its manifest zip's tree path. */
export type DefendAction =
	| {readonly kind: 'fetch'; readonly version: string; readonly path: string; readonly reason: string}
	| {
			readonly kind: 'refresh';
			readonly version: string;
			readonly path: string;
			readonly reason: string;
			/** The manifest held now: its validators make the GET conditional. */
			readonly held: DefendVersionEntry;
	  };

/** Decide the action for every version. */
export function planDefend(versions: readonly string[], manifest: ManifestView): DefendAction[] {
	return [...new Set(versions)].map((version): DefendAction => {
		const path = defendManifestPath(version);
		const held = manifest.defend.versions[version];
		if (!held) {
			return {kind: 'fetch', version, path, reason: `new Defend version ${version}`};
		}

		return {
			kind: 'refresh',
			version,
			path,
			held,
			reason: `held manifest_version ${held.manifestVersion}, refreshed ${held.refreshedAt}; asked again conditionally`,
		};
	});
}
