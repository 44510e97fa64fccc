/**
Reading objects: HEAD, a whole small object (optionally conditional on its ETag), a
stream (optionally ranged and pinned to one version with If-Match), and an exact
byte range of one version. A missing object is undefined, never an error.
*/
import {GetObjectCommand, type GetObjectCommandOutput, HeadObjectCommand} from '@aws-sdk/client-s3';
import {MirrorError} from '../../errors.js';
import type {Connection} from './connection.js';
import {describeStoreError, isMissing, isPreconditionFailed, statusOf} from './errors.js';
import type {S3Location} from './location.js';
import type {ObjectInfo, ObjectStream, StreamOptions} from './objects.js';

function infoOf(output: {
	ContentLength?: number | undefined;
	ETag?: string | undefined;
	LastModified?: Date | undefined;
	Metadata?: Record<string, string> | undefined;
}): ObjectInfo {
	return {
		size: output.ContentLength ?? 0,
		etag: output.ETag ?? '',
		lastModified: output.LastModified ?? new Date(0),
		metadata: output.Metadata ?? {},
	};
}

/** Undefined for a read that failed because the object is missing; any other failure thrown, described. */
function missingOrThrow(error: unknown, location: S3Location, relative: string): undefined {
	if (isMissing(error)) {
		return undefined;
	}

	throw describeStoreError(error, location, `reading ${relative}`);
}

/** What the store says about `relative`, or undefined when it is missing. */
export async function headObject(
	{client, location, key}: Connection,
	relative: string,
): Promise<ObjectInfo | undefined> {
	try {
		return infoOf(await client.send(new HeadObjectCommand({Bucket: location.bucket, Key: key(relative)})));
	} catch (error) {
		return missingOrThrow(error, location, relative);
	}
}

/** A whole small object, or undefined when missing, or 'not-modified' when its ETag is still `ifNoneMatch`. */
export async function getBytes(
	{client, location, key}: Connection,
	relative: string,
	options: {ifNoneMatch?: string | undefined} = {},
): Promise<{body: Buffer; info: ObjectInfo} | 'not-modified' | undefined> {
	try {
		const output = await client.send(
			new GetObjectCommand({Bucket: location.bucket, Key: key(relative), IfNoneMatch: options.ifNoneMatch}),
		);
		const body = Buffer.from((await output.Body?.transformToByteArray()) ?? []);
		return {body, info: infoOf(output)};
	} catch (error) {
		if (statusOf(error) === 304 || (error as Error).name === 'NotModified') {
			return 'not-modified';
		}

		return missingOrThrow(error, location, relative);
	}
}

/** An object's body as a stream, or undefined when missing; ERR_STORE_CHANGED when `ifMatch` no longer holds. */
export async function getStream(
	{client, location, key}: Connection,
	relative: string,
	options: StreamOptions = {},
): Promise<ObjectStream | undefined> {
	let output: GetObjectCommandOutput;
	try {
		output = await client.send(
			new GetObjectCommand({
				Bucket: location.bucket,
				Key: key(relative),
				Range: options.range,
				IfMatch: options.ifMatch,
			}),
			{abortSignal: options.signal},
		);
	} catch (error) {
		if (options.ifMatch && isPreconditionFailed(error)) {
			throw new MirrorError('ERR_STORE_CHANGED', `${relative} changed in the store`, {cause: error});
		}

		return missingOrThrow(error, location, relative);
	}

	return {
		...infoOf(output),
		body: output.Body as unknown as ObjectStream['body'],
		contentRange: output.ContentRange,
	};
}

/**
Bytes `start`..`end` of `relative`, exactly, from the object version whose ETag is
`ifMatch`; ERR_STORE_CHANGED when that version is no longer there.
*/
export async function getRange(
	connection: Connection,
	relative: string,
	start: number,
	end: number,
	ifMatch: string,
): Promise<Buffer> {
	const object = await getStream(connection, relative, {range: `bytes=${start}-${end}`, ifMatch});
	if (!object) {
		throw new MirrorError('ERR_STORE_CHANGED', `${relative} is no longer in the store`);
	}

	// Read into one buffer of the exact size: no chunk list, no second copy.
	const body = Buffer.allocUnsafeSlow(end - start + 1);
	let filled = 0;
	try {
		if (object.etag !== ifMatch) {
			throw new MirrorError('ERR_STORE_CHANGED', `${relative} changed in the store`);
		}

		if (object.contentRange?.replace(/\/.*$/, '') !== `bytes ${start}-${end}`) {
			throw new Error(`asked for bytes ${start}-${end}, got ${object.contentRange ?? 'the whole object'}`);
		}

		for await (const chunk of object.body as AsyncIterable<Buffer>) {
			if (filled + chunk.length > body.length) {
				throw new Error('more bytes than asked for');
			}

			chunk.copy(body, filled);
			filled += chunk.length;
		}

		if (filled !== body.length) {
			throw new Error(`${filled} of ${body.length} bytes`);
		}
	} catch (error) {
		object.body.destroy();
		throw describeStoreError(error, connection.location, `reading ${relative}`);
	}

	return body;
}
