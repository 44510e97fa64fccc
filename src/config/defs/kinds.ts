/**
Value kinds: each parser of parse.ts paired with the JSON Schema of what mirror.yml
may hold for it, so an option definition names its kind once and gets both. The
schema describes the YAML forms the parser takes (a list as a YAML list or a
comma-separated string, a size as bytes or `8G`). A kind also gives the usual
placeholder of its values in help, which an option may replace with a better one.
*/
import {UsageError} from '../../errors.js';
import {redactText} from '../../redact.js';
import {parseVersionSpecs, type VersionSpec} from '../../versions.js';
import {
	parseAddress,
	parseBoolean,
	parseChoice,
	parseInteger,
	parseNames,
	parseNumber,
	parsePath,
	parseSize,
	parseUrl,
	readablePath,
	splitList,
} from '../parse.js';
import type {JsonSchema, Kind} from './option.js';

/** true/false, or the words the environment uses for them (yes, on, 1...). */
export const boolean: Kind<boolean> = {
	parse: parseBoolean,
	schema: {anyOf: [{type: 'boolean'}, {enum: ['true', 'false', 'yes', 'no', 'on', 'off', '1', '0']}]},
};

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number): Kind<number> {
	return {
		parse: (raw, origin) => parseInteger(raw, origin, min, max),
		schema: {type: 'integer', minimum: min, maximum: max},
		arg: '<n>',
	};
}

/** A duration in seconds from `min` to `max` (fractions allowed). */
export function seconds(min: number, max: number): Kind<number> {
	return {
		parse: (raw, origin) => parseNumber(raw, origin, min, max),
		schema: {type: 'number', minimum: min, maximum: max},
		arg: '<seconds>',
	};
}

/** A size in bytes, written as bytes or with a unit: 8G, 700M. */
export function size(min: number, minText: string): Kind<number> {
	return {
		parse: (raw, origin) => parseSize(raw, origin, min, minText),
		schema: {
			anyOf: [
				{type: 'integer', minimum: min},
				{type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*[KMGTkmgt]?[iI]?[bB]?\\s*$'},
			],
		},
		arg: '<size>',
	};
}

/** An http:// or https:// URL, without its trailing slashes. */
export const url: Kind<string> = {
	parse: parseUrl,
	schema: {type: 'string', pattern: '^\\s*[hH][tT][tT][pP][sS]?://'},
	arg: '<url>',
};

/** A server's root URL that paths are appended to: an http(s) URL without a query or fragment. */
export const rootUrl: Kind<string> = {
	parse: (raw, origin) => {
		const value = parseUrl(raw, origin);
		if (/[?#]/.test(value)) {
			throw new UsageError(
				`invalid ${origin.label} "${redactText(value)}": expected a root URL without ? or #, such as https://epr.elastic.co`,
			);
		}

		return value;
	},
	schema: {type: 'string', pattern: '^\\s*[hH][tT][tT][pP][sS]?://[^?#]*$'},
	arg: '<url>',
};

/** A path, resolved from the folder of the file that gave it (or the working directory). */
export const filePath: Kind<string> = {
	parse: parsePath,
	schema: {type: 'string', minLength: 1},
	arg: '<file>',
};

/** A path to a file that must exist; `what` names it in the error. */
export function existingFile(what: string): Kind<string> {
	return {
		parse: (raw, origin) => readablePath(raw, origin, what),
		schema: {type: 'string', minLength: 1},
		arg: '<file>',
	};
}

/** Files that must exist, as a list or comma-separated. */
export function existingFiles(what: string): Kind<string[]> {
	return {
		parse: (raw, origin) => splitList(raw).map((file) => readablePath(file, origin, what)),
		schema: listOf({type: 'string', minLength: 1}),
		arg: '<file>',
	};
}

/** One of `choices`. */
export function choice<T extends string>(choices: readonly T[]): Kind<T> {
	return {
		parse: (raw, origin) => parseChoice(raw, origin, choices),
		schema: {enum: [...choices]},
		arg: `<${choices.join('|')}>`,
	};
}

/** Known names (products, platforms), or all of them; a near miss gets a suggestion. */
export function names(known: readonly string[], what: string): Kind<string[]> {
	return {
		parse: (raw, origin) => parseNames(raw, origin, known, (name) => known.includes(name), what),
		schema: listOf({enum: [...known, 'all']}),
		arg: '<list>',
	};
}

/** Version specs: exact versions, semver ranges and latest. */
export const versionList: Kind<VersionSpec[]> = {
	parse: (raw, origin) => parseVersionSpecs(splitList(raw), origin.label),
	schema: listOf({type: 'string', minLength: 1}),
	arg: '<list>',
};

/** host:port. */
export const address: Kind<{host: string; port: number}> = {
	parse: parseAddress,
	schema: {type: 'string', pattern: '^(\\[[\\da-fA-F:]+\\]|[\\w.-]*):\\d{1,5}$'},
	arg: '<host:port>',
};

/** A string checked by `parse`; no placeholder fits every string, so the option names it. */
export function text<T>(parse: Kind<T>['parse'], schema: JsonSchema = {}): Kind<T> {
	return {parse, schema: {type: 'string', ...schema}};
}

/**
A word (trimmed) that `test` accepts; the error says what was `expected`. The
schema's `pattern` is the same rule for the value as mirror.yml may spell it.
*/
export function matching(test: RegExp, pattern: string, expected: string): Kind<string> {
	return text(
		(raw, origin) => {
			const value = String(raw).trim();
			if (!test.test(value)) {
				throw new UsageError(`invalid ${origin.label} "${value}": expected ${expected}`);
			}

			return value;
		},
		{pattern},
	);
}

/** A YAML list of `item`, or a comma-separated string. */
function listOf(item: JsonSchema): JsonSchema {
	return {anyOf: [{type: 'array', items: item}, {type: 'string'}]};
}
