/**
The JSON Schema (draft 2020-12) of mirror.yml, generated from the option
definitions: each key's type, bounds and choices from its value kind, its default
as it would be written in the file, and its description from the help text.
docs/mirror.schema.json is this output, checked by a test.
*/
import {fileOptions} from './defs/file.js';
import type {AnyOption, JsonSchema} from './defs/option.js';

function propertySchema(option: AnyOption): JsonSchema {
	const notes = [`flag --${option.name}`, ...(option.env?.length ? [`env ${option.env.join(', ')}`] : [])];
	return {
		description: `${option.description} (${notes.join('; ')}${option.defaultText ? `; default: ${option.defaultText}` : ''})`,
		...option.schema,
		...(option.default === undefined ? {} : {default: option.default}),
	};
}

/** The schema of mirror.yml: every key sync or serve reads, and nothing else. */
export function mirrorSchema(): JsonSchema {
	const properties: Record<string, JsonSchema> = {};
	for (const option of fileOptions) {
		properties[option.name] = propertySchema(option);
		for (const alias of option.fileAliases ?? []) {
			properties[alias] = {...propertySchema(option), description: `Same as ${option.name}.`};
		}
	}

	return {
		$schema: 'https://json-schema.org/draft/2020-12/schema',
		title: 'artifact-mirror config file (mirror.yml)',
		description:
			'Options of artifact-mirror sync and serve, which read the same file. Keys are the flag names; lists may be YAML lists or comma-separated strings; relative paths are relative to the file. Flags and environment variables win over the file.',
		type: 'object',
		additionalProperties: false,
		properties,
	};
}
