/**
The config of `package-paths`: the mirror, and the folder to write.
*/
import {UsageError} from '../errors.js';
import {packagePathsDefs} from './defs/maintain.js';
import {createReader, type Reader} from './reader.js';
import type {ConfigSources} from './sources.js';
import {readStore, type StoreChoice} from './store.js';

/** What `package-paths` runs with. */
export type PackagePathsConfig = StoreChoice & {readonly out: string};

/** package-paths' config from `reader`. Throws UsageError. */
export function readPackagePathsConfig(reader: Reader): PackagePathsConfig {
	const {location} = readStore(reader);
	const out = reader.read(packagePathsDefs.out);
	if (out === undefined) {
		throw new UsageError('no --out given: the folder to write the package zips and signatures into');
	}

	return {location, out};
}

/** Load and validate `package-paths`' options. */
export function loadPackagePathsConfig(sources: ConfigSources): PackagePathsConfig {
	return readPackagePathsConfig(createReader(sources));
}
