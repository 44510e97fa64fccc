/**
Where values come from: the sources a command is given (flags, environment, working
directory), the YAML config file, and the lookup of one option in them with the
precedence flags > environment > config file; the loaders apply the defaults. The
environment arrives as an argument: nothing else in the project reads process.env.
*/
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {suggest} from '../agent/catalog.js';
import {UsageError} from '../errors.js';
import type {OptionDef} from './defs/option.js';
import {serveOptionDefs} from './defs/serve.js';
import {syncOptionDefs} from './defs/sync.js';
import type {Origin, Raw} from './parse.js';

/** Every config-file key any command reads; others are reported as typos. */
const knownFileKeys = new Set(
	[...syncOptionDefs, ...serveOptionDefs]
		.filter((def) => !def.flagOnly)
		.flatMap((def) => [def.name, ...(def.fileAliases ?? [])]),
);

/** The sources the loader merges. */
export type ConfigSources = {
	/** Flags as the CLI parsed them, keyed by kebab-case name; absent when not given. */
	readonly flags: Readonly<Record<string, Raw>>;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly cwd: string;
};

type Lookup = (def: OptionDef) => {raw: Raw; origin: Origin} | undefined;

function readConfigFile(sources: ConfigSources): {data: Record<string, Raw>; file: string} | undefined {
	const given = sources.flags.config;
	const file = given ? path.resolve(sources.cwd, String(given)) : path.join(sources.cwd, 'mirror.yml');
	if (!existsSync(file)) {
		if (given) {
			throw new UsageError(`config file ${file} does not exist`);
		}

		return undefined;
	}

	let data: unknown;
	try {
		data = YAML.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		throw new UsageError(`cannot read config file ${file}: ${(error as Error).message.split('\n')[0]}`);
	}

	if (data === null || data === undefined) {
		return {data: {}, file};
	}

	if (typeof data !== 'object' || Array.isArray(data)) {
		throw new UsageError(`config file ${file} must be a mapping of option names to values`);
	}

	for (const key of Object.keys(data)) {
		if (!knownFileKeys.has(key)) {
			const near = suggest(key, [...knownFileKeys]);
			throw new UsageError(`unknown key "${key}" in ${file}${near ? `; did you mean "${near}"?` : ''}`);
		}
	}

	return {data: data as Record<string, Raw>, file};
}

function createLookup(sources: ConfigSources): Lookup {
	const config = readConfigFile(sources);
	return (def) => {
		const flag = sources.flags[def.name];
		if (flag !== undefined) {
			return {raw: flag, origin: {label: `--${def.name}`, baseDir: sources.cwd}};
		}

		if (def.flagOnly) {
			return undefined;
		}

		for (const name of def.env ?? []) {
			const value = sources.env[name];
			if (value !== undefined && value !== '') {
				return {raw: value, origin: {label: name, baseDir: sources.cwd}};
			}
		}

		if (config) {
			for (const key of [def.name, ...(def.fileAliases ?? [])]) {
				if (key in config.data) {
					return {
						raw: config.data[key],
						origin: {label: `${path.basename(config.file)}: ${key}`, baseDir: path.dirname(config.file)},
					};
				}
			}
		}

		return undefined;
	};
}

/** Read one command's options by name: the raw value and its origin, or parsed with a fallback. */
export function createReader(sources: ConfigSources, defs: readonly OptionDef[]) {
	const lookup = createLookup(sources);
	const get = (name: string) => {
		const def = defs.find((candidate) => candidate.name === name);
		if (!def) {
			throw new Error(`no option ${name}`);
		}

		return lookup(def);
	};

	const orDefault = <T>(name: string, parse: (raw: Raw, origin: Origin) => T, fallback: T): T => {
		const found = get(name);
		return found ? parse(found.raw, found.origin) : fallback;
	};

	return {get, orDefault};
}

/** What createReader returns: `get` (raw value and origin) and `orDefault` (parsed, or the fallback). */
export type Reader = ReturnType<typeof createReader>;
