/**
Commander options derived from the option definitions (flag, placeholder, help
with its default and environment variables), and the flags commander parsed turned
back into the sources a config loader reads.
*/
import {type Command, Option} from 'commander';
import {type AnyOption, type ConfigSources, defaultLabel} from '../config/index.js';
import {UsageError} from '../errors.js';

function helpSuffix(def: AnyOption): string {
	const parts: string[] = [];
	const defaultText = defaultLabel(def);
	if (defaultText) {
		parts.push(`default: ${defaultText}`);
	}

	if (def.env && !def.flagOnly) {
		parts.push(`env: ${def.env.join(', ')}`);
	}

	return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** Commander options derived from the definitions: flag, placeholder, help with default and env. */
export function addOptions(command: Command, defs: readonly AnyOption[]): void {
	for (const def of defs) {
		const flags = def.arg ? `--${def.name} ${def.arg}` : `--${def.name}`;
		const option = new Option(flags, def.description + helpSuffix(def));
		if (def.arg) {
			option.argParser((value: string, previous: string[] | string | undefined) => {
				// Commander takes the next word as the value even when it is the next
				// option (`--versions --dir X`), and then blames X as an extra argument.
				if (/^--[a-z]/i.test(value)) {
					throw new UsageError(`option --${def.name} needs a value`);
				}

				return def.repeatable ? [...((previous as string[] | undefined) ?? []), value] : value;
			});
		}

		command.addOption(option);
		if (def.negatable) {
			command.addOption(new Option(`--no-${def.name}`).hideHelp());
		}
	}
}

/** Commander keys options by camelCase; config keys them by flag name. */
function flagsByName(command: Command, defs: readonly AnyOption[]): Record<string, unknown> {
	const values = command.opts();
	const flags: Record<string, unknown> = {};
	for (const def of defs) {
		const key = def.name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
		if (values[key] !== undefined) {
			flags[def.name] = values[key];
		}
	}

	return flags;
}

/** What a command's config is loaded from: its flags, and the process's environment and folder. */
export function sourcesOf(
	command: Command,
	defs: readonly AnyOption[],
	context: {readonly env: ConfigSources['env']; readonly cwd: string},
): ConfigSources {
	return {flags: flagsByName(command, defs), env: context.env, cwd: context.cwd};
}
