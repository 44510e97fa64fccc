/** Presigned GET URLs, for a server that redirects downloads to the store itself. */
import {GetObjectCommand} from '@aws-sdk/client-s3';
import {getSignedUrl} from '@aws-sdk/s3-request-presigner';
import type {Connection} from './connection.js';

/** A URL that lets anyone GET `relative` for `expiresInSeconds`, signed with the store's credentials. */
export function presignGet(
	{client, location, key}: Connection,
	relative: string,
	expiresInSeconds: number,
): Promise<string> {
	return getSignedUrl(client, new GetObjectCommand({Bucket: location.bucket, Key: key(relative)}), {
		expiresIn: expiresInSeconds,
	});
}
