/**
The shape of one option definition: its flag, environment variables, config-file
key and help. The definitions themselves live beside this file, by group and by
command; the loaders parse them and apply the defaults.
*/

/** One option of one command. */
export type OptionDef = {
	/** Kebab-case name: the flag is `--<name>`, the config-file key is `<name>`. */
	readonly name: string;
	/** Other config-file keys accepted for it. */
	readonly fileAliases?: readonly string[];
	readonly env?: readonly string[];
	/** Placeholder for the value; absent for on/off flags. */
	readonly arg?: string;
	readonly repeatable?: boolean;
	readonly description: string;
	/** The default as help shows it. */
	readonly defaultText?: string;
	/** Only a flag: no env var, no config-file key. */
	readonly flagOnly?: boolean;
	/** On by default or by the environment: `--no-<name>` turns it off. */
	readonly negatable?: boolean;
};
