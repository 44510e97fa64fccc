/**
`artifact-mirror config`: `config schema` prints the JSON Schema of mirror.yml;
`config check <command> [its options] [--json]` loads that command's config as the
command would and prints each option's value and where it came from. Both are
built from the option definitions, like every other command's options.
*/
import type {Command} from 'commander';
import {type CheckableCommand, checkable, checkConfig, formatCheck} from '../config/check.js';
import {mirrorSchema} from '../config/schema.js';
import {UsageError} from '../errors.js';
import {addOptions, sourcesOf} from './options.js';

const commandNames = Object.keys(checkable) as CheckableCommand[];

/** Add `config` with its `schema` and `check` subcommands to `program`; `done` receives the exit code. */
export function addConfigCommand(
	program: Command,
	context: {readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string},
	done: (code: number) => void,
): void {
	const config = program
		.command('config')
		.description(
			'Print the JSON Schema of mirror.yml (config schema), or check the config a command would run with ' +
				'and show where each value comes from (config check <command>).',
		)
		.argument('[subcommand]')
		.exitOverride()
		.addHelpText(
			'after',
			'\nExit codes: 0 printed (check: the config is valid), 2 bad usage or config (one line naming the value).\n\n' +
				'Examples:\n' +
				'  artifact-mirror config schema > mirror.schema.json\n' +
				'  artifact-mirror config check sync --config /etc/elastic-mirror.yml\n' +
				'  artifact-mirror config check serve --json',
		)
		.action((name: string | undefined) => {
			throw new UsageError(
				name === undefined
					? 'config needs a subcommand: schema or check'
					: `unknown subcommand "${name}" of config: schema or check`,
			);
		});

	config
		.command('schema')
		.description(
			'Print the JSON Schema (draft 2020-12) of mirror.yml: every key with its type, default and help.',
		)
		.exitOverride()
		.action(() => {
			process.stdout.write(`${JSON.stringify(mirrorSchema(), null, '\t')}\n`);
			done(0);
		});

	const check = config
		.command('check')
		.description(
			`Load a command's config exactly as it would (flags > environment > config file > defaults) and print ` +
				`each option with its value and where it came from; secrets are redacted. Commands: ${commandNames.join(', ')}.`,
		)
		.argument('[command]')
		.exitOverride()
		.action((name: string | undefined) => {
			throw new UsageError(
				name === undefined
					? `config check needs a command: ${commandNames.join(', ')}`
					: `unknown command "${name}" for config check: ${commandNames.join(', ')}`,
			);
		});
	for (const name of commandNames) {
		const {options} = checkable[name];
		const command = check
			.command(name)
			.description(
				`Check the config of ${name}: takes ${name}'s options, loads them as ${name} would, and prints each ` +
					'value with its origin (flag, env, file:key, default). Exit 2 with one line on a bad value.',
			)
			.exitOverride();
		addOptions(command, options);
		command.option('--json', 'print the report as one JSON object');
		command.action(() => {
			const report = checkConfig(name, sourcesOf(command, options, context));
			const json = Boolean(command.opts().json);
			process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${formatCheck(report).join('\n')}\n`);
			done(0);
		});
	}
}
