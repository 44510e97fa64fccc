/**
The config of `import`: the mirror and the trusted keys, read as sync reads them
(so a bad sync value in the environment or config file fails import too).
*/
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import type {StoreChoice} from './store.js';
import {readSyncOptions} from './sync.js';

/** What `import` runs with. */
export type ImportConfig = StoreChoice & {readonly trustedKeyPaths: readonly string[]};

/** Import's config from `reader`: sync's options, for the mirror and the trusted keys. */
export function readImportConfig(reader: Reader): ImportConfig {
	const options = readSyncOptions(reader, {requireVersions: false});
	return {location: options.location, trustedKeyPaths: options.trustedKeyPaths};
}

/** Load and validate `import`'s options. */
export function loadImportConfig(sources: ConfigSources): ImportConfig {
	return readImportConfig(createReader(sources));
}
