/**
The package plan: a pure function from the selected package versions and the
manifest to what a run does with each. A registry never changes a published version,
so a version the manifest lists is not downloaded again (verify re-reads the tree);
only its search entry is refreshed when upstream now answers it differently.
*/
import type {ManifestView, PackageEntry} from '../store/manifest.js';
import {packagePaths} from './catalog.js';
import type {SelectedPackage} from './resolve.js';

/** One step of a run for one package version; `path` is its zip's tree path. */
export type PackageAction =
	| {
			readonly kind: 'skip';
			readonly path: string;
			readonly pkg: SelectedPackage;
			readonly reason: string;
			/** The listed entry, when upstream's search entry for it changed and the manifest should follow. */
			readonly refresh?: PackageEntry | undefined;
	  }
	| {readonly kind: 'fetch'; readonly path: string; readonly pkg: SelectedPackage; readonly reason: string};

/** Decide the action for every selected package version. */
export function planPackages(selected: readonly SelectedPackage[], manifest: ManifestView): PackageAction[] {
	return selected.map((pkg): PackageAction => {
		const path = packagePaths(pkg.name, pkg.version).zip;
		const why = pkg.reasons.join('; ');
		const entry = manifest.packages[path];
		if (!entry) {
			return {kind: 'fetch', path, pkg, reason: `new; ${why}`};
		}

		const changed = JSON.stringify(entry.search) !== JSON.stringify(pkg.search);
		return {
			kind: 'skip',
			path,
			pkg,
			reason: `already published; ${why}`,
			...(changed ? {refresh: entry} : {}),
		};
	});
}
