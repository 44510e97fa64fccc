/** Reading a loaded config's mirror location in assertions. */
import type {StoreLocation} from '../../src/store/location.js';
import type {S3Location} from '../../src/store/s3/location.js';

/** The mirror directory a config names, or undefined when it names an object store. */
export function dirOf(config: {readonly location: StoreLocation}): string | undefined {
	return config.location.kind === 'dir' ? config.location.dir : undefined;
}

/** The object store a config names, or undefined when it names a directory. */
export function s3Of(config: {readonly location: StoreLocation}): S3Location | undefined {
	return config.location.kind === 's3' ? config.location.s3 : undefined;
}
