/**
`config check`: load a command's config exactly as that command would, and say
for each of its options the value it gets and where the value came from (a flag,
an environment variable, a key of the config file, or the default). Secrets are
redacted: the user and password of every URL, and the AWS credentials whole.
*/
import {redactText} from '../redact.js';
import {exportOptions, importOptions} from './defs/bundle.js';
import {packagePathsOptions, pruneOptions, verifyOptions} from './defs/maintain.js';
import {type AnyOption, defaultWords} from './defs/option.js';
import {serveOptions} from './defs/serve.js';
import {storeDefs} from './defs/store.js';
import {syncDefs, syncOptions} from './defs/sync.js';
import {readExportConfig} from './export.js';
import {readImportConfig} from './import.js';
import {readPackagePathsConfig} from './package-paths.js';
import {readPruneConfig} from './prune.js';
import {createReader, type Reader} from './reader.js';
import {readServeConfig} from './serve.js';
import type {ConfigSources, Source} from './sources.js';
import {readSyncConfig} from './sync.js';
import {readVerifyConfig} from './verify.js';

/** A command whose config can be checked: the options it lists and how it reads them. */
type Checkable = {readonly options: readonly AnyOption[]; readonly read: (reader: Reader) => unknown};

/**
The commands `config check` knows, with the options it accepts for each: the
command's own, less the config file (checked separately) and sync's --json
(which means check's own output there).
*/
export const checkable = {
	sync: {options: syncOptions.filter((option) => option !== syncDefs.json), read: readSyncConfig},
	serve: {options: serveOptions, read: readServeConfig},
	export: {options: exportOptions, read: readExportConfig},
	import: {options: importOptions, read: readImportConfig},
	verify: {options: verifyOptions, read: readVerifyConfig},
	prune: {options: pruneOptions, read: readPruneConfig},
	'package-paths': {options: packagePathsOptions, read: readPackagePathsConfig},
} as const satisfies Record<string, Checkable>;

/** A command name `config check` takes. */
export type CheckableCommand = keyof typeof checkable;

/** One line of the check: an option, its value as shown, and where it came from. */
export type CheckedValue = {
	readonly name: string;
	/** The parsed value, redacted; null when the option has none. */
	readonly value: unknown;
	/** flag, env, file, default, or unused (this command did not need it with these values). */
	readonly source: Source['kind'] | 'unused';
	/** The flag, variable or file:key; the default's text; or why it is unused. */
	readonly from: string;
};

/** What `config check` reports. */
export type CheckReport = {
	readonly command: CheckableCommand;
	/** The config file read, or null when there is none. */
	readonly configFile: string | null;
	readonly options: readonly CheckedValue[];
	/** Secrets from the environment the command uses (AWS credentials, proxies), redacted. */
	readonly environment: readonly CheckedValue[];
};

const secretVariables = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

function redact(value: unknown): unknown {
	if (typeof value === 'string') {
		return redactText(value);
	}

	if (Array.isArray(value)) {
		return value.map(redact);
	}

	if (value instanceof Date) {
		return value.toISOString();
	}

	if (value && typeof value === 'object') {
		return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redact(item)]));
	}

	return value ?? null;
}

function describeSource(source: Source, option: AnyOption): string {
	switch (source.kind) {
		case 'flag':
			return source.flag;
		case 'env':
			return source.variable;
		case 'file':
			return `${source.file}: ${source.key}`;
		case 'default':
			return defaultWords(option);
	}
}

/** Load `command`'s config from `sources` as the command would; throws its UsageError. */
export function checkConfig(command: CheckableCommand, sources: ConfigSources): CheckReport {
	const {options, read} = checkable[command] as Checkable;
	const reader = createReader(sources);
	read(reader);
	const values = options
		.filter((option) => option !== storeDefs.config)
		.map((option): CheckedValue => {
			const reading = reader.readings.get(option.name);
			if (!reading) {
				return {name: option.name, value: null, source: 'unused', from: 'not needed with these values'};
			}

			const shown = reading.value === undefined || !option.show ? reading.value : option.show(reading.value);
			return {
				name: option.name,
				value: redact(shown),
				source: reading.source.kind,
				from: describeSource(reading.source, option),
			};
		});
	const environment = [...secretVariables, ...proxyVariables]
		.filter((name) => sources.env[name])
		.map(
			(name): CheckedValue => ({
				name,
				value: secretVariables.includes(name) ? '***' : redactText(sources.env[name] ?? ''),
				source: 'env',
				from: name,
			}),
		);
	return {command, configFile: reader.configFile ?? null, options: values, environment};
}

function showValue(value: unknown): string {
	if (value === null) {
		return '-';
	}

	if (Array.isArray(value)) {
		return value.length === 0 ? '(empty)' : value.map(String).join(', ');
	}

	return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The report as lines for a person: a header, then one aligned line per option. */
export function formatCheck(report: CheckReport): string[] {
	const rows = [...report.options, ...report.environment].map((row) => ({
		name: row.name,
		// An option without a value says what its absence means, as help does.
		value: row.value === null && row.source === 'default' ? row.from : showValue(row.value),
		origin:
			row.source === 'flag' || row.source === 'env' || row.source === 'file'
				? `${row.source} ${row.from}`
				: row.source,
	}));
	const nameWidth = Math.max(...rows.map((row) => row.name.length));
	const valueWidth = Math.min(48, Math.max(...rows.map((row) => row.value.length)));
	return [
		`${report.command}: config OK (config file: ${report.configFile ?? 'none'})`,
		...rows.map((row) => `  ${row.name.padEnd(nameWidth)}  ${row.value.padEnd(valueWidth)}  (${row.origin})`),
	];
}
