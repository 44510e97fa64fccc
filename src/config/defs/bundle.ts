/**
The option lists of `export` and `import`. Export's selection is flags only, so a
config file's sync selection never narrows a bundle.
*/
import type {OptionDef} from './option.js';
import {platformsDef, productsDef, versionsDef} from './selection.js';
import {commonDefs} from './store.js';
import {trustedKeyDef} from './upstream.js';

/** The selection flags of export: flags only, so a config file's sync selection never narrows a bundle. */
const selectionFlags: OptionDef[] = [productsDef, versionsDef, platformsDef].map((def) => ({
	...def,
	flagOnly: true,
	description: `only these ${def.name}: ${def.name === 'versions' ? 'exact, ranges and latest, against what the mirror holds' : 'comma-separated'}`,
	defaultText: 'all',
}));

/** The options of `export`. */
export const exportOptionDefs: readonly OptionDef[] = [
	...commonDefs,
	{
		name: 'out',
		arg: '<file>',
		description: 'bundle file to write, or - for stdout',
		defaultText: 'required',
		flagOnly: true,
	},
	{
		name: 'split-size',
		arg: '<size>',
		description: 'write numbered parts (<file>.001, .002, ...) of at most this size: 4G, 700M',
		defaultText: 'one file',
		flagOnly: true,
	},
	...selectionFlags,
	{
		name: 'since',
		arg: '<date|last>',
		description: 'only files published after this ISO date, or after the previous export (last)',
		defaultText: 'everything',
		flagOnly: true,
	},
];

/** The options of `import`. */
export const importOptionDefs: readonly OptionDef[] = [...commonDefs, trustedKeyDef];
