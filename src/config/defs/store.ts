/**
The options every command starts with: the config file, and where the mirror is
(a directory, or an S3 bucket and how to reach it).
*/
import {UsageError} from '../../errors.js';
import {isS3Url, parseS3Url} from '../../store/s3/location.js';
import {parsePath} from '../parse.js';
import {boolean, filePath, text, url} from './kinds.js';
import {option} from './option.js';

/** The config file; sources.ts reads it before any other option. */
export const configOption = option({
	name: 'config',
	arg: '<file>',
	description: 'YAML config file (sync and serve read the same one)',
	defaultText: './mirror.yml when present',
	flagOnly: true,
	...filePath,
});

/** The mirror directory. */
export const dirOption = option({
	name: 'dir',
	arg: '<path>',
	env: ['MIRROR_DIR'],
	description: 'root of the mirror tree',
	default: './artifacts',
	...filePath,
});

/** What --store names: a directory, or a bucket and prefix. */
export type StoreTarget =
	| {readonly kind: 'dir'; readonly dir: string}
	| {readonly kind: 's3'; readonly bucket: string; readonly prefix: string};

/** A directory, or s3://bucket[/prefix]. */
export const storeOption = option({
	name: 'store',
	arg: '<path|s3://bucket[/prefix]>',
	env: ['MIRROR_STORE'],
	description: 'where the mirror lives: a directory (same as --dir) or an S3 bucket and prefix',
	defaultText: 'the --dir directory',
	...text(
		(raw, origin): StoreTarget => {
			const value = String(raw).trim();
			return isS3Url(value)
				? {kind: 's3', ...parseS3Url(value, origin.label)}
				: {kind: 'dir', dir: parsePath(value, origin)};
		},
		{minLength: 1},
	),
	show: (target) => (target.kind === 'dir' ? target.dir : `s3://${target.bucket}/${target.prefix}`),
});

/** Endpoint of an S3-compatible store; credentials come from the AWS SDK's chain, never from flags. */
export const s3EndpointOption = option({
	name: 's3-endpoint',
	arg: '<url>',
	env: ['MIRROR_S3_ENDPOINT'],
	description: 'endpoint of an S3-compatible store (Ceph RGW, MinIO)',
	defaultText: 'AWS S3',
	...url,
});

/** Region of the bucket. */
export const s3RegionOption = option({
	name: 's3-region',
	arg: '<region>',
	env: ['MIRROR_S3_REGION'],
	description: 'region of the bucket',
	default: 'us-east-1',
	...text(
		(raw, origin) => {
			const region = String(raw).trim();
			if (!/^[a-z0-9-]{1,64}$/i.test(region)) {
				throw new UsageError(`invalid ${origin.label} "${region}": expected a region name like us-east-1`);
			}

			return region;
		},
		{pattern: '^[a-zA-Z0-9-]{1,64}$'},
	),
});

/** Path-style bucket addressing. */
export const s3PathStyleOption = option({
	name: 's3-path-style',
	env: ['MIRROR_S3_PATH_STYLE'],
	description: 'address buckets as endpoint/bucket (Ceph RGW and MinIO need it)',
	default: false,
	...boolean,
});

/** The options every command lists first, in this order. */
export const commonOptions = [
	configOption,
	dirOption,
	storeOption,
	s3EndpointOption,
	s3RegionOption,
	s3PathStyleOption,
] as const;
