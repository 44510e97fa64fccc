/**
The config of `verify`: sync's options (the upstream for repairs) and --repair.
*/
import {verifyDefs} from './defs/maintain.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {readSyncOptions} from './sync.js';
import type {SyncOptions} from './types.js';

/** What `verify` runs with: sync's options give the upstream for repairs. */
export type VerifyConfig = {readonly sync: SyncOptions; readonly repair: boolean};

/** Verify's config from `reader`. Throws UsageError. */
export function readVerifyConfig(reader: Reader): VerifyConfig {
	return {sync: readSyncOptions(reader, {requireVersions: false}), repair: reader.read(verifyDefs.repair)};
}

/** Load and validate `verify`'s options. */
export function loadVerifyConfig(sources: ConfigSources): VerifyConfig {
	return readVerifyConfig(createReader(sources));
}
