/**
The options every command starts with: the config file, and where the mirror is
(a directory, or an S3 bucket and how to reach it).
*/
import {isS3Url, parseS3Url} from '../../store/s3/location.js';
import {parsePath} from '../parse.js';
import {boolean, filePath, matching, text, url} from './kinds.js';
import {group} from './option.js';

/** What --store names: a directory, or a bucket and prefix. */
export type StoreTarget =
	| {readonly kind: 'dir'; readonly dir: string}
	| {readonly kind: 's3'; readonly bucket: string; readonly prefix: string};

/**
The config file and the store. sources.ts reads the config file before any other
option; S3 credentials come from the AWS SDK's chain, never from options.
*/
export const storeDefs = group({
	config: {
		...filePath,
		description: 'YAML config file (sync and serve read the same one)',
		defaultText: './mirror.yml when present',
		flagOnly: true,
	},
	dir: {...filePath, arg: '<path>', description: 'root of the mirror tree', default: './artifacts'},
	store: {
		arg: '<path|s3://bucket[/prefix]>',
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
	},
	s3Endpoint: {
		...url,
		description: 'endpoint of an S3-compatible store (Ceph RGW, MinIO)',
		defaultText: 'AWS S3',
	},
	s3Region: {
		...matching(/^[a-z0-9-]{1,64}$/i, '^[a-zA-Z0-9-]{1,64}$', 'a region name like us-east-1'),
		arg: '<region>',
		description: 'region of the bucket',
		default: 'us-east-1',
	},
	s3PathStyle: {
		...boolean,
		description: 'address buckets as endpoint/bucket (Ceph RGW and MinIO need it)',
		default: false,
	},
});

/** The options every command lists first, in the order written above. */
export const commonOptions = Object.values(storeDefs);
