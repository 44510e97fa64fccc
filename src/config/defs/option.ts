/**
The shape of one option, defined once: its flag, environment variables,
config-file key, default, parser, JSON Schema and help. Help text, the commander
options, the JSON Schema of mirror.yml, `config check` and the typed reader are
all derived from these records. Definitions are written in groups (group()), one
object per concern, so that a record says only what is particular to it: the
name comes from its key and the environment variable from the name.
*/
import type {Origin, Raw} from '../parse.js';

/** A fragment of JSON Schema (draft 2020-12). */
export type JsonSchema = {readonly [keyword: string]: unknown};

/** How values of one type are read: the parser, what mirror.yml may hold for it, and how help names a value. */
export type Kind<T> = {
	readonly parse: (raw: Raw, origin: Origin) => T;
	readonly schema: JsonSchema;
	/** The usual placeholder for such a value (`<n>`, `<url>`); an option may name it better. */
	readonly arg?: string;
};

/**
One option; `T` is the parsed value. The default is written as a user would write
it (in mirror.yml), so that one parser checks every source and help and the schema
show the default as it is typed. An option without a default reads as
`T | undefined`.
*/
export type Option<T = unknown> = Kind<T> & {
	/** Kebab-case name: the flag is `--<name>`, the config-file key is `<name>`. */
	readonly name: string;
	/** Other config-file keys accepted for it. */
	readonly fileAliases?: readonly string[];
	/** Environment variables, the first one set wins; group() makes it MIRROR_<NAME> unless written. */
	readonly env?: readonly string[];
	/** Placeholder for the value; absent for on/off flags. */
	readonly arg?: string;
	readonly repeatable?: boolean;
	readonly description: string;
	/** The value when no source gives one, parsed like any other (relative paths from the working directory). */
	readonly default?: Raw;
	/** A default no config file could spell (a path inside this installation). */
	readonly computedDefault?: () => T;
	/** The default as help shows it, when the default value itself does not say it. */
	readonly defaultText?: string;
	/** Only a flag: no env var, no config-file key. */
	readonly flagOnly?: boolean;
	/** On by default or by the environment: `--no-<name>` turns it off. */
	readonly negatable?: boolean;
	/** How `config check` shows a parsed value; the value itself when absent. */
	show?(value: T): unknown;
};

/** Any option, for lists of them. */
// biome-ignore lint/suspicious/noExplicitAny: a list holds options of every value type; reading one stays typed.
export type AnyOption = Option<any>;

/** The parsed type of an option: `T`, or `T | undefined` when it has no default. */
export type ValueOf<O> =
	O extends Kind<infer T>
		? O extends {readonly default: NonNullable<unknown>} | {readonly computedDefault: () => unknown}
			? T
			: T | undefined
		: never;

/** An option as a group writes it: the name is its key, the environment variable is derived. */
export type Entry = Omit<AnyOption, 'name'>;

/** A group entry made an option: its name and (unless given or flag-only) its environment variable added. */
export type Named<E> = E & {readonly name: string; readonly env?: readonly string[]};

/** The kebab-case name of a camelCase key: `s3BlockCache` is `s3-block-cache`. */
function kebab(key: string): string {
	return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
Options from `entries`, keyed as written and each with its literal type kept
(whether it has a default) for the typed reader. An option that is not flag-only
reads MIRROR_<NAME> from the environment unless it lists its variables itself.
*/
export function group<const G extends Readonly<Record<string, Entry>>>(
	entries: G,
): {readonly [K in keyof G]: Named<G[K]>} {
	const options = Object.entries(entries).map(([key, entry]) => {
		const name = kebab(key);
		const env = entry.flagOnly ? undefined : [`MIRROR_${name.replaceAll('-', '_').toUpperCase()}`];
		return [key, {name, ...(env && {env}), ...entry}] as const;
	});
	// fromEntries forgets which key holds which option; the entries above keep them paired.
	return Object.fromEntries(options) as {readonly [K in keyof G]: Named<G[K]>};
}

/** The default as help and the README show it: `defaultText`, or the default value written out. */
export function defaultLabel(option: AnyOption): string | undefined {
	if (option.defaultText !== undefined) {
		return option.defaultText;
	}

	const value = option.default;
	if (typeof value === 'boolean') {
		return value ? 'on' : 'off';
	}

	if (Array.isArray(value)) {
		return value.join(',');
	}

	return value === undefined || value === null ? undefined : String(value);
}

/** The default in words for people (check, README): its label, or off for a switch and none for a value. */
export function defaultWords(option: AnyOption): string {
	return defaultLabel(option) ?? (option.arg ? 'none' : 'off');
}
