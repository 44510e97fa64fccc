/**
The config of `prune`: its rules (keep latest, keep versions, unselected) and
--yes, loaded and validated from prune's options.
*/
import {UsageError} from '../errors.js';
import type {PruneRules} from '../maintain/prune.js';
import {parseVersionSpecs} from '../versions.js';
import {pruneOptionDefs} from './defs/maintain.js';
import {parseInteger, splitList} from './parse.js';
import {type ConfigSources, createReader} from './sources.js';
import {readStore, type StoreChoice} from './store.js';
import {loadSyncConfig} from './sync.js';

/** What `prune` runs with. */
export type PruneConfig = StoreChoice & {readonly rules: PruneRules; readonly yes: boolean};

/** Load and validate `prune`'s options; at least one rule is required. */
export function loadPruneConfig(sources: ConfigSources): PruneConfig {
	const reader = createReader(sources, pruneOptionDefs);
	const {orDefault} = reader;
	const {location} = readStore(sources, reader);
	const keepLatest = orDefault('keep-latest', (raw, origin) => parseInteger(raw, origin, 1, 1000), undefined);
	const keepVersions = orDefault(
		'keep-versions',
		(raw, origin) => parseVersionSpecs(splitList(raw), origin.label),
		undefined,
	);
	const unselected = Boolean(sources.flags.unselected);
	if (sources.flags['dry-run'] && sources.flags.yes) {
		throw new UsageError(
			'--dry-run and --yes contradict each other: prune without --yes is already a dry run',
		);
	}

	if (keepLatest === undefined && keepVersions === undefined && !unselected) {
		throw new UsageError('prune needs a rule: --keep-latest N, --keep-versions LIST or --unselected');
	}

	// --unselected: the selection sync would make from the environment and config file.
	const selection = unselected
		? (() => {
				const sync = loadSyncConfig({...sources, flags: {config: sources.flags.config}}).options;
				return {products: sync.products, platforms: sync.platforms, versions: sync.versions, fips: sync.fips};
			})()
		: undefined;
	return {
		location,
		rules: {keepLatest, keepVersions, selection},
		yes: Boolean(sources.flags.yes),
	};
}
