/**
Typed access to options: `read(option)` looks the option up (flags > environment >
config file), parses it with the option's own parser, and falls back to the
option's default; the result has the option's type. Every value read is recorded
with where it came from, for `config check`.
*/
import type {AnyOption, ValueOf} from './defs/option.js';
import {type ConfigSources, createLookup, type Source} from './sources.js';

/** One value a loader read, and where it came from. */
export type Reading = {readonly value: unknown; readonly source: Source};

/** Reads options from one set of sources. */
export type Reader = {
	readonly sources: ConfigSources;
	/** The config file read, if any. */
	readonly configFile: string | undefined;
	/** The option's parsed value, or its default (undefined when it has none). Throws UsageError. */
	read<O extends AnyOption>(option: O): ValueOf<O>;
	/** Whether a flag, the environment or the config file gives the option. */
	given(option: AnyOption): boolean;
	/** What was read so far, by option name, in the order read. */
	readonly readings: ReadonlyMap<string, Reading>;
};

/** A reader over `sources`; the config file is read (and checked for unknown keys) now. */
export function createReader(sources: ConfigSources): Reader {
	const {lookup, file} = createLookup(sources);
	const readings = new Map<string, Reading>();
	return {
		sources,
		configFile: file,
		readings,
		given: (option) => lookup(option) !== undefined,
		read<O extends AnyOption>(option: O): ValueOf<O> {
			const found = lookup(option);
			let value: unknown;
			let source: Source = {kind: 'default'};
			if (found) {
				value = option.parse(found.raw, found.origin);
				source = found.source;
			} else if (option.computedDefault) {
				value = option.computedDefault();
			} else if (option.default !== undefined) {
				value = option.parse(option.default, {label: 'default', baseDir: sources.cwd});
			}

			if (!readings.has(option.name)) {
				readings.set(option.name, {value, source});
			}

			return value as ValueOf<O>;
		},
	};
}
