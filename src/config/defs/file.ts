/**
The options a config file may set: every option of sync and serve (which read the
same mirror.yml) that is not a flag only. Other keys are typos; the JSON Schema
lists these.
*/
import type {AnyOption} from './option.js';
import {serveOptions} from './serve.js';
import {syncOptions} from './sync.js';

/** Each option a config file may set, once, in help order (sync's, then serve's own). */
export const fileOptions: readonly AnyOption[] = [
	...new Set<AnyOption>([...syncOptions, ...serveOptions]),
].filter((option) => !option.flagOnly);

/** Every config-file key any command reads, with the option it sets. */
export const fileKeys: ReadonlyMap<string, AnyOption> = new Map(
	fileOptions.flatMap((option) => [option.name, ...(option.fileAliases ?? [])].map((key) => [key, option])),
);
