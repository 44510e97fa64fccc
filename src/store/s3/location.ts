/**
Where a mirror lives in an object store: `s3://bucket[/prefix]` plus how to reach the
store. Keys inside the bucket are the upstream's paths under the prefix, so the
bucket can also be served as it is by the store itself or by a CDN.
*/
import {UsageError} from '../../errors.js';
import type {ProxyConfig} from '../../upstream/proxy.js';

/** The S3 store of a mirror, as configured. */
export type S3Location = {
	readonly bucket: string;
	/** '' or a prefix ending in '/'. */
	readonly prefix: string;
	/** Endpoint URL for S3-compatible stores (Ceph RGW, MinIO); undefined: AWS. */
	readonly endpoint: string | undefined;
	readonly region: string;
	/** Address buckets as a path (`endpoint/bucket/key`), which Ceph and MinIO need. */
	readonly pathStyle: boolean;
	/**
	Credentials found in the command's environment (AWS_ACCESS_KEY_ID and friends);
	undefined: the AWS SDK's own chain (profiles, instance roles, web identity).
	*/
	readonly credentials:
		| {
				readonly accessKeyId: string;
				readonly secretAccessKey: string;
				readonly sessionToken?: string | undefined;
		  }
		| undefined;
	/** HTTPS_PROXY, HTTP_PROXY and NO_PROXY, honoured for the store as for the upstream. */
	readonly proxy?: ProxyConfig | undefined;
};

/** Whether a `--store` value names an object store rather than a directory. */
export function isS3Url(value: string): boolean {
	return /^s3:\/\//i.test(value.trim());
}

/** `s3://bucket[/prefix]` as bucket and normalized prefix; throws UsageError naming `label`. */
export function parseS3Url(value: string, label: string): {bucket: string; prefix: string} {
	const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(value.trim());
	const bucket = match?.[1] ?? '';
	// The S3 naming rules, loosely: stores differ, but none allows these.
	if (!match || !/^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$/i.test(bucket)) {
		throw new UsageError(`invalid ${label} "${value}": expected s3://bucket or s3://bucket/prefix`);
	}

	const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
	if (segments.some((segment) => segment === '.' || segment === '..')) {
		throw new UsageError(`invalid ${label} "${value}": no . or .. in the prefix`);
	}

	return {bucket, prefix: segments.length > 0 ? `${segments.join('/')}/` : ''};
}

/** The store as users name it in messages: `s3://bucket/prefix`. */
export function describeS3(location: Pick<S3Location, 'bucket' | 'prefix'>): string {
	return `s3://${location.bucket}/${location.prefix.replace(/\/$/, '')}`.replace(/\/$/, '');
}
