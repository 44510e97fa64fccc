/**
The shape of one option, defined once: its flag, environment variables,
config-file key, default, parser, JSON Schema and help. Help text, the commander
options, the JSON Schema of mirror.yml, `config check` and the typed reader are
all derived from these records; the definitions live in groups/ (shared) and in
each command's module.
*/
import type {Origin, Raw} from '../parse.js';

/** A fragment of JSON Schema (draft 2020-12). */
export type JsonSchema = {readonly [keyword: string]: unknown};

/** How values of one type are read: the parser, and what mirror.yml may hold for it. */
export type Kind<T> = {
	readonly parse: (raw: Raw, origin: Origin) => T;
	readonly schema: JsonSchema;
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

/** An option, its literal type kept (whether it has a default) for the typed reader. */
export function option<const O extends AnyOption>(definition: O): O {
	return definition;
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
