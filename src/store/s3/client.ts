/**
The one place that talks to the object store: an S3 client set up for S3-compatible
stores as well as AWS, the few operations the mirror needs, and one translation of
the store's failures into errors a user can act on.
*/
import {createReadStream} from 'node:fs';
import {Agent as HttpAgent} from 'node:http';
import {Agent} from 'node:https';
import {
	type _Object,
	CopyObjectCommand,
	DeleteObjectCommand,
	GetObjectCommand,
	type GetObjectCommandOutput,
	HeadBucketCommand,
	HeadObjectCommand,
	ListObjectsV2Command,
	PutObjectCommand,
	S3Client,
	S3ServiceException,
} from '@aws-sdk/client-s3';
import {Upload} from '@aws-sdk/lib-storage';
import {HttpProxyAgent, HttpsProxyAgent} from 'hpagent';
import {MirrorError, StoreAccessError} from '../../errors.js';
import {proxyFor} from '../../upstream/proxy.js';
import {describeS3, type S3Location} from './location.js';

/** What a HEAD or GET says about an object. */
export type ObjectInfo = {
	readonly size: number;
	/** The store's ETag, quotes included; multipart uploads have a `-N` suffix. */
	readonly etag: string;
	readonly lastModified: Date;
	readonly metadata: Readonly<Record<string, string>>;
};

/** An object's body as a stream, with what the store said about it. */
export type ObjectStream = ObjectInfo & {
	readonly body: NodeJS.ReadableStream & {destroy(error?: Error): void};
	/** `bytes start-end/size` when a range was asked for and granted. */
	readonly contentRange: string | undefined;
};

/** One listed key under a prefix (or a common prefix: a folder). */
export type Listed = {readonly key: string; readonly size: number; readonly lastModified: Date};

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
	readonly getStream: (
		relative: string,
		options?: {range?: string | undefined; ifMatch?: string | undefined; signal?: AbortSignal | undefined},
	) => Promise<ObjectStream | undefined>;
	/**
	Bytes `start`..`end` of `relative`, exactly, from the object version whose ETag is
	`ifMatch`; ERR_STORE_CHANGED when that version is no longer there.
	*/
	readonly getRange: (relative: string, start: number, end: number, ifMatch: string) => Promise<Buffer>;
	/** PUT bytes. `ifNoneMatch: '*'` or `ifMatch` make it conditional; false when the condition failed. */
	readonly putBytes: (
		relative: string,
		body: Uint8Array | string,
		options?: {
			contentType?: string | undefined;
			cacheControl?: string | undefined;
			metadata?: Record<string, string> | undefined;
			ifNoneMatch?: '*' | undefined;
			ifMatch?: string | undefined;
		},
	) => Promise<{etag: string} | false>;
	/** Upload a local file (multipart when large); readers see it only once it is whole. */
	readonly putFile: (
		relative: string,
		file: string,
		options: {contentType: string; cacheControl: string; metadata?: Record<string, string> | undefined},
	) => Promise<void>;
	readonly remove: (relative: string) => Promise<void>;
	/** Copy an object inside the bucket, metadata included (single request: objects up to 5 GiB). */
	readonly copy: (fromRelative: string, toRelative: string) => Promise<void>;
	/** Every object under a relative prefix, paged through. */
	readonly list: (relativePrefix: string) => AsyncIterable<Listed>;
	/** Objects and sub-folders directly inside a relative folder (`a/b/`). */
	readonly listFolder: (relativeFolder: string) => Promise<{files: Listed[]; folders: string[]}>;
	readonly close: () => void;
};

const retryableNames = new Set([
	'TimeoutError',
	'RequestTimeout',
	'SlowDown',
	'ServiceUnavailable',
	'InternalError',
]);

function statusOf(error: unknown): number | undefined {
	return (error as {$metadata?: {httpStatusCode?: number}} | undefined)?.$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
	const name = (error as Error | undefined)?.name;
	return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

function isPreconditionFailed(error: unknown): boolean {
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

function describe(error: unknown): string {
	return error instanceof Error ? error.message.split('\n')[0] || error.name : String(error);
}

/** The URL the store's requests go to, as NO_PROXY is matched against it. */
function storeUrl(location: S3Location): URL {
	if (!location.endpoint) {
		return new URL(`https://${location.bucket}.s3.${location.region}.amazonaws.com/`);
	}

	const url = new URL(location.endpoint);
	if (!location.pathStyle) {
		url.hostname = `${location.bucket}.${url.hostname}`;
	}

	return url;
}

/** Agents for the SDK: through the proxy when one applies (the SDK reads no proxy variable itself). */
function agentsFor(location: S3Location, options: {keepAlive: boolean; maxSockets: number}) {
	const proxy = location.proxy ? proxyFor(storeUrl(location), location.proxy) : undefined;
	if (proxy) {
		return {
			httpAgent: new HttpProxyAgent({...options, proxy}),
			httpsAgent: new HttpsProxyAgent({...options, proxy}),
		};
	}

	return {httpAgent: new HttpAgent(options), httpsAgent: new Agent(options)};
}

/** Set up the client and operations for `location`; nothing is sent until used. */
export function createS3Store(location: S3Location): S3Store {
	// Many agents download at once through one server: the SDK's default of 50
	// sockets would queue them.
	const agentOptions = {keepAlive: true, maxSockets: 1024};
	const client = new S3Client({
		region: location.region,
		endpoint: location.endpoint,
		forcePathStyle: location.pathStyle,
		credentials: location.credentials,
		// Ceph RGW rejects the SDK's default streamed checksums with 411; checksums
		// here come from the mirror's own sha512 and signature checks anyway.
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
		maxAttempts: 3,
		requestHandler: {
			connectionTimeout: 5000,
			requestTimeout: 60_000,
			...agentsFor(location, agentOptions),
		},
	});
	const key = (relative: string) => `${location.prefix}${relative}`;
	const wrap = async <T>(doing: string, run: () => Promise<T>): Promise<T> => {
		try {
			return await run();
		} catch (error) {
			throw describeStoreError(error, location, doing);
		}
	};

	const infoOf = (output: {
		ContentLength?: number | undefined;
		ETag?: string | undefined;
		LastModified?: Date | undefined;
		Metadata?: Record<string, string> | undefined;
	}): ObjectInfo => ({
		size: output.ContentLength ?? 0,
		etag: output.ETag ?? '',
		lastModified: output.LastModified ?? new Date(0),
		metadata: output.Metadata ?? {},
	});

	/** Every page of a listing under a relative prefix, following continuation tokens. */
	async function* pages(relativePrefix: string, delimiter?: string) {
		let token: string | undefined;
		do {
			const page = await wrap(`listing ${relativePrefix || '/'}`, () =>
				client.send(
					new ListObjectsV2Command({
						Bucket: location.bucket,
						Prefix: key(relativePrefix),
						Delimiter: delimiter,
						ContinuationToken: token,
					}),
				),
			);
			yield page;
			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
	}

	const listedOf = (objects: _Object[] | undefined): Listed[] =>
		(objects ?? []).flatMap((object) =>
			object.Key
				? [
						{
							key: object.Key.slice(location.prefix.length),
							size: object.Size ?? 0,
							lastModified: object.LastModified ?? new Date(0),
						},
					]
				: [],
		);

	async function* list(relativePrefix: string): AsyncIterable<Listed> {
		for await (const page of pages(relativePrefix)) {
			yield* listedOf(page.Contents);
		}
	}

	async function getStream(
		relative: string,
		options: {
			range?: string | undefined;
			ifMatch?: string | undefined;
			signal?: AbortSignal | undefined;
		} = {},
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
			if (isMissing(error)) {
				return undefined;
			}

			if (options.ifMatch && isPreconditionFailed(error)) {
				throw new MirrorError('ERR_STORE_CHANGED', `${relative} changed in the store`, {cause: error});
			}

			throw describeStoreError(error, location, `reading ${relative}`);
		}

		return {
			...infoOf(output),
			body: output.Body as unknown as ObjectStream['body'],
			contentRange: output.ContentRange,
		};
	}

	return {
		location,
		label: describeS3(location),
		client,
		key,
		async checkAccess() {
			await wrap('checking the bucket', () => client.send(new HeadBucketCommand({Bucket: location.bucket})));
		},
		async head(relative) {
			try {
				return infoOf(
					await client.send(new HeadObjectCommand({Bucket: location.bucket, Key: key(relative)})),
				);
			} catch (error) {
				if (isMissing(error)) {
					return undefined;
				}

				throw describeStoreError(error, location, `reading ${relative}`);
			}
		},
		async getBytes(relative, options = {}) {
			try {
				const output = await client.send(
					new GetObjectCommand({
						Bucket: location.bucket,
						Key: key(relative),
						IfNoneMatch: options.ifNoneMatch,
					}),
				);
				const body = Buffer.from((await output.Body?.transformToByteArray()) ?? []);
				return {body, info: infoOf(output)};
			} catch (error) {
				if (statusOf(error) === 304 || (error as Error).name === 'NotModified') {
					return 'not-modified';
				}

				if (isMissing(error)) {
					return undefined;
				}

				throw describeStoreError(error, location, `reading ${relative}`);
			}
		},
		getStream,
		async getRange(relative, start, end, ifMatch) {
			const object = await getStream(relative, {range: `bytes=${start}-${end}`, ifMatch});
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
					throw new Error(
						`asked for bytes ${start}-${end}, got ${object.contentRange ?? 'the whole object'}`,
					);
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
				throw describeStoreError(error, location, `reading ${relative}`);
			}

			return body;
		},
		async putBytes(relative, body, options = {}) {
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
		},
		async putFile(relative, file, options) {
			await wrap(`uploading ${relative}`, async () => {
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
		},
		async remove(relative) {
			await wrap(`removing ${relative}`, () =>
				client.send(new DeleteObjectCommand({Bucket: location.bucket, Key: key(relative)})),
			);
		},
		async copy(fromRelative, toRelative) {
			await wrap(`copying ${fromRelative}`, () =>
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
		},
		list,
		async listFolder(relativeFolder) {
			const files: Listed[] = [];
			const folders: string[] = [];
			for await (const page of pages(relativeFolder, '/')) {
				files.push(...listedOf(page.Contents));
				for (const common of page.CommonPrefixes ?? []) {
					if (common.Prefix) {
						folders.push(common.Prefix.slice(location.prefix.length));
					}
				}
			}

			return {files, folders};
		},
		close() {
			client.destroy();
		},
	};
}
