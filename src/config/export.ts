/**
The config of `export`: the bundle file, its part size, the selection and since
when, read from export's options.
*/
import {UsageError} from '../errors.js';
import type {PackageRequest} from '../packages/catalog.js';
import type {VersionSpec} from '../versions.js';
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
	/** false: no artifact at all (only --packages was given). */
	readonly binaries: boolean;
	/** undefined: every package version. */
	readonly packages: readonly PackageRequest[] | 'none' | undefined;
	/** undefined: every Defend version the mirror holds. */
	readonly defend: readonly VersionSpec[] | 'none' | undefined;
	readonly since: Date | 'last' | undefined;
};

/** Export's config from `reader`. Throws UsageError. */
export function readExportConfig(reader: Reader): ExportConfig {
	const {read, given} = reader;
	const {location} = readStore(reader);
	const out = read(exportDefs.out);
	if (out === undefined) {
		throw new UsageError('no --out given: a bundle file name, or - for stdout');
	}

	let packages = read(exportDefs.packages);
	let defend = read(exportDefs.defendArtifacts);
	// As for sync: a collection flag (--packages, --defend-artifacts) selects only the collections
	// named; a binary selection flag brings binaries back.
	const collections = [packages, defend].some((value) => value !== undefined && value !== 'none');
	const binaryFlags = [exportDefs.products, exportDefs.versions, exportDefs.platforms];
	const binaries = !collections || binaryFlags.some((option) => given(option));
	if (collections) {
		packages ??= 'none';
		defend ??= 'none';
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
		binaries,
		packages,
		defend,
		since: read(exportDefs.since),
	};
}

/** Load and validate `export`'s options. */
export function loadExportConfig(sources: ConfigSources): ExportConfig {
	return readExportConfig(createReader(sources));
}
