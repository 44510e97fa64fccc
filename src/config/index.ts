/**
Configuration, loaded and validated once per command. Every option is defined once
(defs/: flag, environment variables, config-file key, default, parser, schema and
help), in groups shared by the commands (store, upstream, selection, TLS, logging)
and composed into one list per command; reader.ts reads them typed, with the
precedence flags > environment > YAML config file > defaults; one file per command
(sync.ts, serve.ts, export.ts, import.ts, verify.ts, prune.ts, package-paths.ts, push.ts) turns them into
what that command runs with. This module re-exports the public names.
*/
export {exportOptions, importOptions} from './defs/bundle.js';
export {logLevels} from './defs/logging.js';
export {packagePathsOptions, pruneOptions, verifyOptions} from './defs/maintain.js';
export {type AnyOption, defaultLabel, defaultWords} from './defs/option.js';
export {pushOptions} from './defs/push.js';
export {serveOptions} from './defs/serve.js';
export {commonOptions} from './defs/store.js';
export {syncOptions} from './defs/sync.js';
export {type ExportConfig, loadExportConfig} from './export.js';
export {type ImportConfig, loadImportConfig} from './import.js';
export {loadPackagePathsConfig, type PackagePathsConfig} from './package-paths.js';
export {loadPruneConfig, type PruneConfig} from './prune.js';
export {loadPushConfig, type PushConfig} from './push.js';
export {loadServeConfig, type ServeConfig} from './serve.js';
export type {ConfigSources} from './sources.js';
export type {StoreChoice} from './store.js';
export {loadSyncConfig, type SyncConfig} from './sync.js';
export type {PruneRules, Selection, SyncOptions} from './types.js';
export {loadVerifyConfig, type VerifyConfig} from './verify.js';
