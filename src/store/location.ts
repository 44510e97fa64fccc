/**
Where a mirror lives, as every command and the server are given it: one value that
names the backend, so no code carries a directory that "is unused" beside a store.
*/
import {describeS3, type S3Location} from './s3/location.js';

/** A mirror directory, or a bucket and prefix in an object store. */
export type StoreLocation =
	| {readonly kind: 'dir'; readonly dir: string}
	| {readonly kind: 's3'; readonly s3: S3Location};

/** A directory mirror at `dir` (already resolved). */
export function dirLocation(dir: string): StoreLocation {
	return {kind: 'dir', dir};
}

/** The mirror as users name it: its directory, or `s3://bucket/prefix`. */
export function locationLabel(location: StoreLocation): string {
	return location.kind === 'dir' ? location.dir : describeS3(location.s3);
}

/** The mirror in the object store `s3`. */
export function s3Location(s3: S3Location): StoreLocation {
	return {kind: 's3', s3};
}
