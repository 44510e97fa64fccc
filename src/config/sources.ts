/**
Where values come from: the sources a command is given (flags, environment, working
directory), the YAML config file, and the lookup of one option in them with the
precedence flags > environment > config file. The environment arrives as an
argument: nothing else in the project reads process.env.
*/
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {UsageError} from '../errors.js';
import {suggest} from '../suggest.js';
import {fileKeys} from './defs/file.js';
import type {AnyOption} from './defs/option.js';
import type {Origin, Raw} from './parse.js';

/** The sources the loader merges. */
export type ConfigSources = {
	/** Flags as the CLI parsed them, keyed by kebab-case name; absent when not given. */
	readonly flags: Readonly<Record<string, unknown>>;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly cwd: string;
};

/** Where a value was found: a flag, an environment variable, a key of a config file, or the default. */
export type Source =
	| {readonly kind: 'flag'; readonly flag: string}
	| {readonly kind: 'env'; readonly variable: string}
	| {readonly kind: 'file'; readonly file: string; readonly key: string}
	| {readonly kind: 'default'};

/** A value as a source gave it, with its origin (for errors and relative paths) and source. */
export type Found = {readonly raw: Raw; readonly origin: Origin; readonly source: Source};

/** Look one option up in the sources: the first that gives it, or undefined. */
export type Lookup = (option: AnyOption) => Found | undefined;

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
		if (!fileKeys.has(key)) {
			const near = suggest(key, [...fileKeys.keys()]);
			throw new UsageError(`unknown key "${key}" in ${file}${near ? `; did you mean "${near}"?` : ''}`);
		}
	}

	return {data: data as Record<string, Raw>, file};
}

/**
Read the config file once (its path is returned, when there is one); then look
options up in flags, environment and file, in that order.
*/
export function createLookup(sources: ConfigSources): {lookup: Lookup; file: string | undefined} {
	const config = readConfigFile(sources);
	const lookup: Lookup = (option) => {
		const flag = sources.flags[option.name];
		if (flag !== undefined) {
			return {
				raw: flag,
				origin: {label: `--${option.name}`, baseDir: sources.cwd},
				source: {kind: 'flag', flag: `--${option.name}`},
			};
		}

		if (option.flagOnly) {
			return undefined;
		}

		for (const name of option.env ?? []) {
			const value = sources.env[name];
			if (value !== undefined && value !== '') {
				return {
					raw: value,
					origin: {label: name, baseDir: sources.cwd},
					source: {kind: 'env', variable: name},
				};
			}
		}

		if (config) {
			for (const key of [option.name, ...(option.fileAliases ?? [])]) {
				if (key in config.data) {
					return {
						raw: config.data[key],
						origin: {label: `${path.basename(config.file)}: ${key}`, baseDir: path.dirname(config.file)},
						source: {kind: 'file', file: config.file, key},
					};
				}
			}
		}

		return undefined;
	};
	return {lookup, file: config?.file};
}
