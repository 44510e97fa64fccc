/**
The options every command starts with: the config file, and where the mirror is
(a directory, or an S3 bucket and how to reach it).
*/
import type {OptionDef} from './option.js';

const configDef: OptionDef = {
	name: 'config',
	arg: '<file>',
	description: 'YAML config file (sync and serve read the same one)',
	defaultText: './mirror.yml when present',
	flagOnly: true,
};

const dirDef: OptionDef = {
	name: 'dir',
	arg: '<path>',
	env: ['MIRROR_DIR'],
	description: 'root of the mirror tree',
	defaultText: './artifacts',
};

const storeDef: OptionDef = {
	name: 'store',
	arg: '<path|s3://bucket[/prefix]>',
	env: ['MIRROR_STORE'],
	description: 'where the mirror lives: a directory (same as --dir) or an S3 bucket and prefix',
	defaultText: 'the --dir directory',
};

/** How to reach an S3 store; credentials come from the AWS SDK's chain, never from flags. */
const s3Defs: readonly OptionDef[] = [
	{
		name: 's3-endpoint',
		arg: '<url>',
		env: ['MIRROR_S3_ENDPOINT'],
		description: 'endpoint of an S3-compatible store (Ceph RGW, MinIO)',
		defaultText: 'AWS S3',
	},
	{
		name: 's3-region',
		arg: '<region>',
		env: ['MIRROR_S3_REGION'],
		description: 'region of the bucket',
		defaultText: 'us-east-1',
	},
	{
		name: 's3-path-style',
		env: ['MIRROR_S3_PATH_STYLE'],
		description: 'address buckets as endpoint/bucket (Ceph RGW and MinIO need it)',
		defaultText: 'off',
	},
];

/** The options every command lists first, in this order. */
export const commonDefs: readonly OptionDef[] = [configDef, dirDef, storeDef, ...s3Defs];
