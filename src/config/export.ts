/**
The config of `export`: the bundle file, its part size, the selection and since
when, read from export's options.
*/
import {UsageError} from '../errors.js';
import {exportDefs} from './defs/bundle.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {readStore, type StoreChoice} from './store.js';
import type {Selection} from './types.js';

/** What `export` runs with. */
export type ExportConfig = StoreChoice & {
	readonly out: string;
	readonly splitSize: number | undefined;
	readonly selection: Selection;
	readonly since: Date | 'last' | undefined;
};

/** Export's config from `reader`. Throws UsageError. */
export function readExportConfig(reader: Reader): ExportConfig {
	const {read} = reader;
	const {location} = readStore(reader);
	const out = read(exportDefs.out);
	if (out === undefined) {
		throw new UsageError('no --out given: a bundle file name, or - for stdout');
	}

	return {
		location,
		out,
		splitSize: read(exportDefs.splitSize),
		selection: {
			products: read(exportDefs.products),
			platforms: read(exportDefs.platforms),
			versions: read(exportDefs.versions),
		},
		since: read(exportDefs.since),
	};
}

/** Load and validate `export`'s options. */
export function loadExportConfig(sources: ConfigSources): ExportConfig {
	return readExportConfig(createReader(sources));
}
