/**
One translation of the object store's failures into errors a user can act on: missing
credentials, a missing bucket, refused access and an unreachable endpoint each say
what to fix; anything else names the operation that failed.
*/
import {S3ServiceException} from '@aws-sdk/client-s3';
import {MirrorError, StoreAccessError} from '../../errors.js';
import {describeS3, type S3Location} from './location.js';

const retryableNames = new Set([
	'TimeoutError',
	'RequestTimeout',
	'SlowDown',
	'ServiceUnavailable',
	'InternalError',
]);

/** The HTTP status the SDK attached to a failure, if any. */
export function statusOf(error: unknown): number | undefined {
	return (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode;
}

/** Whether a failure means the object (not the bucket) is not there. */
export function isMissing(error: unknown): boolean {
	const name = (error as Error | undefined)?.name;
	return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

/** Whether a conditional request failed its condition (If-Match, If-None-Match). */
export function isPreconditionFailed(error: unknown): boolean {
	const name = (error as Error | undefined)?.name;
	return name === 'PreconditionFailed' || statusOf(error) === 412 || name === 'ConditionalRequestConflict';
}

/** A network-level failure: the store is not reachable at all. */
function networkCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current; depth++) {
		const code = (current as NodeJS.ErrnoException).code;
		if (code && /^E[A-Z]+$/.test(code)) {
			return code;
		}

		current = (current as {cause?: unknown}).cause;
	}

	return (error as Error | undefined)?.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message.split('\n')[0] || error.name : String(error);
}

/** Translate a failure of the store into a MirrorError that says what to fix. */
export function describeStoreError(error: unknown, location: S3Location, doing: string): MirrorError {
	if (error instanceof MirrorError) {
		return error;
	}

	const where = describeS3(location);
	const endpoint = location.endpoint ?? `AWS S3 (${location.region})`;
	const name = (error as Error | undefined)?.name ?? '';
	const status = statusOf(error);
	const network = networkCode(error);
	if (name === 'CredentialsProviderError') {
		return new StoreAccessError(
			`no S3 credentials for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance role`,
			{cause: error},
		);
	}

	if (name === 'NoSuchBucket' || (status === 404 && doing === 'checking the bucket')) {
		return new StoreAccessError(`bucket ${location.bucket} does not exist at ${endpoint}`, {cause: error});
	}

	if (
		status === 403 ||
		['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden'].includes(name)
	) {
		// A HEAD's 403 has no body to say why: wrong keys and a missing permission look alike.
		const why = name && name !== 'Unknown' ? name : `HTTP ${status ?? 403}`;
		return new StoreAccessError(
			`the S3 store at ${endpoint} refused access to ${where} (${why}): check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and the bucket's permissions`,
			{cause: error},
		);
	}

	if (network) {
		return new StoreAccessError(`cannot reach the S3 endpoint ${endpoint} (${network})`, {cause: error});
	}

	const reason = error instanceof S3ServiceException ? `${name} ${status ?? ''}`.trim() : describe(error);
	return new MirrorError(
		retryableNames.has(name) ? 'ERR_STORE_BUSY' : 'ERR_STORE',
		`S3 store ${where}: ${doing} failed (${reason})`,
		{cause: error},
	);
}

/** Run `run`, any failure translated by describeStoreError as `doing`. */
export async function guarded<T>(location: S3Location, doing: string, run: () => Promise<T>): Promise<T> {
	try {
		return await run();
	} catch (error) {
		throw describeStoreError(error, location, doing);
	}
}
