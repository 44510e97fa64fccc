/**
Presigned URLs of objects, for answering artifact downloads with a redirect so that
bytes flow from the store to the agent directly.
*/
import {GetObjectCommand} from '@aws-sdk/client-s3';
import {getSignedUrl} from '@aws-sdk/s3-request-presigner';
import type {S3Store} from '../../store/s3/client.js';

/** A URL that GETs `relative` from `store` for `seconds`. */
export function presignedUrl(store: S3Store, relative: string, seconds: number): Promise<string> {
	return getSignedUrl(
		store.client,
		new GetObjectCommand({Bucket: store.location.bucket, Key: store.key(relative)}),
		{expiresIn: seconds},
	);
}
