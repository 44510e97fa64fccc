/**
The config of `import`: the mirror and the trusted keys, read as sync reads them.
*/
import type {ConfigSources} from './sources.js';
import type {StoreChoice} from './store.js';
import {loadSyncConfig} from './sync.js';

/** What `import` runs with. */
export type ImportConfig = StoreChoice & {readonly trustedKeyPaths: readonly string[]};

/** Load and validate `import`'s options: sync's, for the mirror and the trusted keys. */
export function loadImportConfig(sources: ConfigSources): ImportConfig {
	const options = loadSyncConfig(sources, {requireVersions: false}).options;
	return {location: options.location, trustedKeyPaths: options.trustedKeyPaths};
}
