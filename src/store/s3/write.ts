/**
Writing objects: a PUT of bytes (optionally conditional, for the lease), an upload of
a local file (multipart when large, visible only once whole), a delete and a copy.
*/
import {createReadStream} from 'node:fs';
import {CopyObjectCommand, DeleteObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3';
import {Upload} from '@aws-sdk/lib-storage';
import type {Connection} from './connection.js';
import {describeStoreError, guarded, isMissing, isPreconditionFailed} from './errors.js';
import type {PutOptions, UploadOptions} from './objects.js';

/** PUT bytes; false when the PUT was conditional and its condition failed (nothing was written). */
export async function putBytes(
	{client, location, key}: Connection,
	relative: string,
	body: Uint8Array | string,
	options: PutOptions = {},
): Promise<{etag: string} | false> {
	const put = (ifMatch: string | undefined) =>
		client.send(
			new PutObjectCommand({
				Bucket: location.bucket,
				Key: key(relative),
				Body: body,
				ContentType: options.contentType,
				CacheControl: options.cacheControl,
				Metadata: options.metadata,
				IfNoneMatch: options.ifNoneMatch,
				IfMatch: ifMatch,
			}),
		);
	try {
		try {
			return {etag: (await put(options.ifMatch)).ETag ?? ''};
		} catch (error) {
			// Ceph RGW compares If-Match on PUT with the bare ETag, AWS with the quoted
			// one: a failed conditional PUT wrote nothing, so asking both ways is safe.
			const bare = options.ifMatch?.replace(/^"(.*)"$/, '$1');
			if (bare && bare !== options.ifMatch && isPreconditionFailed(error)) {
				return {etag: (await put(bare)).ETag ?? ''};
			}

			throw error;
		}
	} catch (error) {
		if ((options.ifNoneMatch || options.ifMatch) && (isPreconditionFailed(error) || isMissing(error))) {
			return false;
		}

		throw describeStoreError(error, location, `writing ${relative}`);
	}
}

/** Upload the local `file` (multipart when large); readers see it only once it is whole. */
export async function putFile(
	{client, location, key}: Connection,
	relative: string,
	file: string,
	options: UploadOptions,
): Promise<void> {
	await guarded(location, `uploading ${relative}`, async () => {
		const upload = new Upload({
			client,
			params: {
				Bucket: location.bucket,
				Key: key(relative),
				Body: createReadStream(file, {highWaterMark: 1024 * 1024}),
				ContentType: options.contentType,
				CacheControl: options.cacheControl,
				Metadata: options.metadata,
			},
			queueSize: 4,
			partSize: 16 * 1024 * 1024,
			leavePartsOnError: false,
		});
		await upload.done();
	});
}

/** Delete an object; a missing one is not an error (S3 says 204 either way). */
export async function removeObject({client, location, key}: Connection, relative: string): Promise<void> {
	await guarded(location, `removing ${relative}`, () =>
		client.send(new DeleteObjectCommand({Bucket: location.bucket, Key: key(relative)})),
	);
}

/** Copy an object inside the bucket, metadata included (single request: objects up to 5 GiB). */
export async function copyObject(
	{client, location, key}: Connection,
	fromRelative: string,
	toRelative: string,
): Promise<void> {
	await guarded(location, `copying ${fromRelative}`, () =>
		client.send(
			new CopyObjectCommand({
				Bucket: location.bucket,
				Key: key(toRelative),
				// The source names a key: each path segment is URL-encoded, the slashes kept.
				CopySource: `${location.bucket}/${key(fromRelative).split('/').map(encodeURIComponent).join('/')}`,
				MetadataDirective: 'COPY',
			}),
		),
	);
}
