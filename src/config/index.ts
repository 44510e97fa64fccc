/**
Configuration, loaded and validated once per command. Every option is defined once
(defs/) with its flag, environment variables, config-file key and help; sources.ts
looks values up with the precedence flags > environment > YAML config file >
defaults; parse.ts checks them; one file per command (sync.ts, serve.ts, export.ts,
import.ts, verify.ts, prune.ts) loads that command's config. This module re-exports
the public names.
*/
export {exportOptionDefs, importOptionDefs} from './defs/bundle.js';
export {pruneOptionDefs, verifyOptionDefs} from './defs/maintain.js';
export type {OptionDef} from './defs/option.js';
export {logLevels, serveOptionDefs} from './defs/serve.js';
export {syncOptionDefs} from './defs/sync.js';
export {type ExportConfig, loadExportConfig} from './export.js';
export {type ImportConfig, loadImportConfig} from './import.js';
export {loadPruneConfig, type PruneConfig} from './prune.js';
export {loadServeConfig, type ServeConfig} from './serve.js';
export type {ConfigSources} from './sources.js';
export type {StoreChoice} from './store.js';
export {loadSyncConfig, type SyncConfig} from './sync.js';
export {loadVerifyConfig, type VerifyConfig} from './verify.js';
