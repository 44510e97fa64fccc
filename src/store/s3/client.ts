/**
The object store as the mirror and the server use it: one client for a bucket and
prefix, and the few operations they need, keys relative to the prefix. The work is
done by siblings, one job each: connection.ts (the SDK client, proxies), read.ts,
write.ts, list.ts, presign.ts, and errors.ts (failures a user can act on). Only store/s3/
imports the AWS SDK.
*/
import {HeadBucketCommand, type S3Client} from '@aws-sdk/client-s3';
import {connect} from './connection.js';
import {guarded} from './errors.js';
import {listFolder, listObjects} from './list.js';
import {describeS3, type S3Location} from './location.js';
import type {Listed, ObjectInfo, ObjectStream, PutOptions, StreamOptions, UploadOptions} from './objects.js';
import {presignGet} from './presign.js';
import {getBytes, getRange, getStream, headObject} from './read.js';
import {copyObject, putBytes, putFile, removeObject} from './write.js';

export type {Listed, ObjectInfo, ObjectStream} from './objects.js';

/** The store operations the mirror uses. Keys are relative to the location's prefix. */
export type S3Store = {
	readonly location: S3Location;
	/** `s3://bucket/prefix`. */
	readonly label: string;
	readonly client: S3Client;
	/** The full key of `relative` in the bucket. */
	readonly key: (relative: string) => string;
	/** Throws StoreAccessError unless the bucket exists and the credentials may use it. */
	readonly checkAccess: () => Promise<void>;
	readonly head: (relative: string) => Promise<ObjectInfo | undefined>;
	/** A whole small object, or undefined when missing (or unchanged since `ifNoneMatch`). */
	readonly getBytes: (
		relative: string,
		options?: {ifNoneMatch?: string | undefined},
	) => Promise<{body: Buffer; info: ObjectInfo} | 'not-modified' | undefined>;
	readonly getStream: (relative: string, options?: StreamOptions) => Promise<ObjectStream | undefined>;
	/**
	Bytes `start`..`end` of `relative`, exactly, from the object version whose ETag is
	`ifMatch`; ERR_STORE_CHANGED when that version is no longer there.
	*/
	readonly getRange: (relative: string, start: number, end: number, ifMatch: string) => Promise<Buffer>;
	/** PUT bytes. `ifNoneMatch: '*'` or `ifMatch` make it conditional; false when the condition failed. */
	readonly putBytes: (
		relative: string,
		body: Uint8Array | string,
		options?: PutOptions,
	) => Promise<{etag: string} | false>;
	/** Upload a local file (multipart when large); readers see it only once it is whole. */
	readonly putFile: (relative: string, file: string, options: UploadOptions) => Promise<void>;
	readonly remove: (relative: string) => Promise<void>;
	/** Copy an object inside the bucket, metadata included (single request: objects up to 5 GiB). */
	readonly copy: (fromRelative: string, toRelative: string) => Promise<void>;
	/** Every object under a relative prefix, paged through. */
	readonly list: (relativePrefix: string) => AsyncIterable<Listed>;
	/** Objects and sub-folders directly inside a relative folder (`a/b/`). */
	readonly listFolder: (relativeFolder: string) => Promise<{files: Listed[]; folders: string[]}>;
	/** A URL that lets anyone GET `relative` for `expiresInSeconds`, for redirecting a download to the store. */
	readonly presignGet: (relative: string, expiresInSeconds: number) => Promise<string>;
	readonly close: () => void;
};

/** Set up the client and operations for `location`; nothing is sent until used. */
export function createS3Store(location: S3Location): S3Store {
	const connection = connect(location);
	const {client, key} = connection;
	return {
		location,
		label: describeS3(location),
		client,
		key,
		async checkAccess() {
			await guarded(location, 'checking the bucket', () =>
				client.send(new HeadBucketCommand({Bucket: location.bucket})),
			);
		},
		head: (relative) => headObject(connection, relative),
		getBytes: (relative, options) => getBytes(connection, relative, options),
		getStream: (relative, options) => getStream(connection, relative, options),
		getRange: (relative, start, end, ifMatch) => getRange(connection, relative, start, end, ifMatch),
		putBytes: (relative, body, options) => putBytes(connection, relative, body, options),
		putFile: (relative, file, options) => putFile(connection, relative, file, options),
		remove: (relative) => removeObject(connection, relative),
		copy: (fromRelative, toRelative) => copyObject(connection, fromRelative, toRelative),
		list: (relativePrefix) => listObjects(connection, relativePrefix),
		listFolder: (relativeFolder) => listFolder(connection, relativeFolder),
		presignGet: (relative, expiresInSeconds) => presignGet(connection, relative, expiresInSeconds),
		close() {
			client.destroy();
		},
	};
}
