/**
The config of `prune`: its rules (keep latest, keep versions, unselected) and
--yes, read from prune's options.
*/
import {UsageError} from '../errors.js';
import {pruneDefs} from './defs/maintain.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {readStore, type StoreChoice} from './store.js';
import {readSyncOptions} from './sync.js';
import type {PruneRules} from './types.js';

/** What `prune` runs with. */
export type PruneConfig = StoreChoice & {
	readonly rules: PruneRules;
	readonly yes: boolean;
	/** What --unselected leaves alone and why, for prune to say. */
	readonly notes: readonly string[];
};

/** Prune's config from `reader`; at least one rule is required. Throws UsageError. */
export function readPruneConfig(reader: Reader): PruneConfig {
	const {read, sources} = reader;
	const {location} = readStore(reader);
	const keepLatest = read(pruneDefs.keepLatest);
	const keepVersions = read(pruneDefs.keepVersions);
	const keepPackageVersions = read(pruneDefs.keepPackageVersions);
	const keepImageTags = read(pruneDefs.keepImageTags);
	const imageTagsOlderThan = read(pruneDefs.imageTagsOlderThan);
	const unselected = read(pruneDefs.unselected) ?? false;
	const defendOrphans = read(pruneDefs.defendOrphans) ?? false;
	const yes = read(pruneDefs.yes) ?? false;
	if (read(pruneDefs.dryRun) && yes) {
		throw new UsageError(
			'--dry-run and --yes contradict each other: prune without --yes is already a dry run',
		);
	}

	if (
		keepLatest === undefined &&
		keepVersions === undefined &&
		keepPackageVersions === undefined &&
		keepImageTags === undefined &&
		imageTagsOlderThan === undefined &&
		!unselected &&
		!defendOrphans
	) {
		throw new UsageError(
			'prune needs a rule: --keep-latest N, --keep-versions LIST, --keep-package-versions N, --keep-image-tags N, --image-tags-older-than DAYS, --unselected or --defend-orphans',
		);
	}

	// --unselected: the selection sync would make from the environment and config file. A kind
	// of file the config does not select at all is left alone: a config that now names only
	// packages must not wipe every binary (nor one for binaries only every package).
	const notes: string[] = [];
	let selection: PruneRules['selection'];
	let packages: PruneRules['packages'];
	let defendVersions: PruneRules['defendVersions'];
	let images: PruneRules['images'];
	if (unselected) {
		const sync = readSyncOptions(createReader({...sources, flags: {config: sources.flags.config}}));
		if (sync.products.length > 0) {
			selection = {
				products: sync.products,
				platforms: sync.platforms,
				versions: sync.versions,
				fips: sync.fips,
			};
		} else {
			notes.push('the sync config selects no binaries: --unselected leaves artifacts alone');
		}

		if (sync.packages) {
			packages = sync.packages.requests;
		} else {
			notes.push('the sync config selects no packages: --unselected leaves package versions alone');
		}

		// No note when it selects none: most mirrors hold no Defend protections to leave alone.
		defendVersions = sync.defend?.versions;
		images = sync.images?.requests;
	}

	return {
		location,
		rules: {
			keepLatest,
			keepVersions,
			selection,
			keepPackageVersions,
			packages,
			defendVersions,
			keepImageTags,
			imageTagsOlderThan,
			images,
		},
		yes,
		notes,
	};
}

/** Load and validate `prune`'s options. */
export function loadPruneConfig(sources: ConfigSources): PruneConfig {
	return readPruneConfig(createReader(sources));
}
