/**
What the upstream client is given and gives back: its settings, the download target
and results, and the client's own shape.
*/
import type {IncomingHttpHeaders} from 'node:http';
import type {FileDigests, SignedDigestSpec} from '../trust/digest.js';
import type {PreparedSignature} from '../trust/signature.js';
import type {ProxyConfig} from './proxy.js';
import type {MinSpeed} from './rate.js';

/** How to reach the upstream. */
export type HttpConfig = {
	/** Seconds-scale inactivity limit, in ms: connect, first byte, and between bytes. */
	readonly timeoutMs: number;
	/** Further attempts after the first, for failures that may pass. */
	readonly retries: number;
	/** First backoff delay in ms; doubles each attempt, capped at 30 s, with jitter. */
	readonly retryDelayMs: number;
	/** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
	readonly ca?: string | undefined;
	readonly proxy: ProxyConfig;
	readonly userAgent: string;
	/** A transfer slower than this over a whole window fails (retryably); undefined: no floor. */
	readonly minSpeed?: MinSpeed | undefined;
	/**
	Bytes one download may bring, whatever the upstream declares: a body that declares
	no size (chunked, no Content-Range) would otherwise be bounded by nothing but the
	disk. Undefined: no bound beyond the declared size.
	*/
	readonly maxFileSize?: number | undefined;
};

/** A retry about to happen, for progress output. */
export type RetryEvent = {
	url: string;
	/** 1 for the first retry. */
	attempt: number;
	/** Retries allowed in all (`--retries`). */
	retries: number;
	delayMs: number;
	reason: string;
};

/** Where a download writes, and what it reports while it runs. */
export type DownloadTarget = {
	/** The partial file; kept between attempts and runs so that they can resume. */
	readonly partPath: string;
	/** Small JSON file beside the partial file holding the validator for `If-Range`. */
	readonly metaPath: string;
	/** The artifact's signature, so that its digest comes from the same pass as the sha512. */
	readonly signature?: PreparedSignature | undefined;
	/** Further digests from the same pass (an image blob's sha256), in `digests.signed` after the signature's. */
	readonly digests?: readonly SignedDigestSpec[] | undefined;
	/** Extra request headers (a registry's bearer token; dropped by a redirect to another host). */
	readonly headers?: Readonly<Record<string, string>> | undefined;
	/** The exact size the bytes must have (an image blob's descriptor): more is refused as it arrives. */
	readonly maxBytes?: number | undefined;
	readonly onStart?: (info: {total: number | undefined; resumedFrom: number}) => void;
	readonly onProgress?: (bytes: number) => void;
	readonly onRetry?: (event: RetryEvent) => void;
	/**
	Throws when this process may no longer write to the temp folder (its lock is gone):
	called before every write, so a holder that stalled past its lease stops at its
	next chunk instead of writing into files another holder may be using.
	*/
	readonly beforeWrite?: (() => void) | undefined;
};

/** A finished download: the bytes are all in `partPath`. */
export type DownloadResult = {
	readonly size: number;
	/** Lowercase hex sha512 of the whole file, resumed part included. */
	readonly sha512: string;
	/** The sha512 and the digests `target.signature` covers, from one pass over the bytes. */
	readonly digests: FileDigests;
	/** Bytes that were already on disk from an earlier attempt or run. */
	readonly resumedFrom: number;
	readonly lastModified: Date | undefined;
};

/** A small body fetched whole, or (`notModified`, empty body) a 304 to a conditional GET. */
export type TextResult = {
	readonly body: Buffer;
	readonly lastModified: Date | undefined;
	/** The response's ETag, as sent. */
	readonly etag?: string | undefined;
	readonly notModified?: boolean | undefined;
	/** The response's status: 200, 304, or one of the `statuses` the caller asked to see. */
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
};

/** Extra request headers, and statuses answered rather than thrown (a registry's 401 challenge). */
export type FetchOptions = {
	readonly headers?: Readonly<Record<string, string>> | undefined;
	readonly statuses?: readonly number[] | undefined;
};

/** The validators of a copy already held: a GET with them may be answered 304. */
export type Conditional = {readonly etag?: string | undefined; readonly modifiedSince?: Date | undefined};

/** The client sync uses; create with createHttpClient, close when done. */
export type HttpClient = {
	/** GET a small file whole (conditionally, with `conditional`). Throws NotFoundError on 404. */
	fetch(
		url: string,
		options?: FetchOptions & {
			maxBytes?: number;
			onRetry?: (event: RetryEvent) => void;
			conditional?: Conditional;
		},
	): Promise<TextResult>;
	/** HEAD: whether the upstream has the file. */
	exists(url: string): Promise<boolean>;
	/** GET a file into `target.partPath`, resuming what is there. */
	download(url: string, target: DownloadTarget): Promise<DownloadResult>;
	/** Requests sent so far, by method, for the summary and tests. */
	readonly counts: {get: number; head: number};
	close(): void;
};
