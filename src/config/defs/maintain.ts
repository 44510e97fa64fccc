/**
The option lists of `verify`, `prune` and `package-paths`.
*/
import type {VersionSpec} from '../../versions.js';
import {defendDefs} from './defend.js';
import {imageDefs} from './images.js';
import {boolean, filePath, integer, versionList} from './kinds.js';
import {group} from './option.js';
import {packageDefs} from './packages.js';
import {commonOptions} from './store.js';
import {syncDefs} from './sync.js';
import {upstreamDefs} from './upstream.js';

/** verify --repair: quarantine and fetch again. */
export const verifyDefs = group({
	repair: {
		...boolean,
		description:
			'move bad artifacts, package versions, Defend files and image blobs to .mirror/quarantine/ (a bad Defend artifact with the manifests naming it; a bad image blob unlists the tags reaching it); fetch them again from their upstreams',
		default: false,
		flagOnly: true,
	},
});

/** The options of `verify`. */
export const verifyOptions = [
	...commonOptions,
	upstreamDefs.trustedKey,
	verifyDefs.repair,
	upstreamDefs.upstream,
	packageDefs.registry,
	defendDefs.defendUpstream,
	imageDefs.imageRegistry,
	upstreamDefs.caFile,
	upstreamDefs.timeout,
	upstreamDefs.retries,
	upstreamDefs.retryDelay,
] as const;

/**
Prune's rules (keep the latest, keep versions, remove the unselected) and whether
it deletes (--yes) or only prints; its dry run is sync's flag in prune's words,
since without --yes prune is already a dry run.
*/
export const pruneDefs = group({
	keepLatest: {
		...integer(1, 1000),
		description: 'keep the newest N versions of each product and major.minor',
		flagOnly: true,
	},
	keepVersions: {
		...versionList,
		description: 'keep versions matching these (syntax of sync --versions)',
		flagOnly: true,
		show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
	},
	keepPackageVersions: {
		...integer(1, 1000),
		description:
			'keep the newest N versions of each integration package (and any version a kept one requires)',
		flagOnly: true,
	},
	keepImageTags: {
		...integer(1, 1000),
		description:
			'keep the newest N tags of each image repository (by version when every tag is one, else by when the mirror set it); blobs no kept tag reaches go too',
		flagOnly: true,
	},
	imageTagsOlderThan: {
		...integer(1, 36500),
		arg: '<days>',
		description:
			'remove image tags the mirror set (or moved) more than DAYS days ago; blobs no kept tag reaches go too',
		flagOnly: true,
	},
	unselected: {
		...boolean,
		description:
			'remove what the sync config no longer selects: artifacts (versions, products, platforms, fips), package versions (--packages names), Defend versions (--defend-artifacts) and image tags (--images; an untagged repository keeps all its tags), each only when the config selects that kind at all',
		flagOnly: true,
	},
	defendOrphans: {
		...boolean,
		description:
			'remove Elastic Defend artifacts no held manifest names (always safe; every prune run does it, so this flag alone does only that)',
		flagOnly: true,
	},
	yes: {...boolean, description: 'delete; without it prune only prints what it would delete', flagOnly: true},
	dryRun: {...syncDefs.dryRun, description: 'only print what would be deleted (the default without --yes)'},
});

/** The options of `prune`. */
export const pruneOptions = [...commonOptions, ...Object.values(pruneDefs)] as const;

/** package-paths: the folder Elastic's registry loads (its `package_paths`). */
export const packagePathsDefs = group({
	out: {
		...filePath,
		arg: '<dir>',
		description: "folder to write every package version's <name>-<version>.zip and .zip.sig into",
		defaultText: 'required',
		flagOnly: true,
	},
});

/** The options of `package-paths`. */
export const packagePathsOptions = [...commonOptions, packagePathsDefs.out] as const;
