/**
The config of `verify`: sync's options (the upstream for repairs) and --repair.
*/
import type {SyncOptions} from '../agent/sync.js';
import type {ConfigSources} from './sources.js';
import {loadSyncConfig} from './sync.js';

/** What `verify` runs with: sync's options give the upstream for repairs. */
export type VerifyConfig = {readonly sync: SyncOptions; readonly repair: boolean};

/** Load and validate `verify`'s options. */
export function loadVerifyConfig(sources: ConfigSources): VerifyConfig {
	return {
		sync: loadSyncConfig(sources, {requireVersions: false}).options,
		repair: Boolean(sources.flags.repair),
	};
}
