/** What the object store says about objects, as the mirror and the server use it. Types only. */

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

/** Options of a streamed GET. */
export type StreamOptions = {
	range?: string | undefined;
	ifMatch?: string | undefined;
	signal?: AbortSignal | undefined;
};

/** Options of a PUT of bytes; `ifNoneMatch: '*'` or `ifMatch` make it conditional. */
export type PutOptions = {
	contentType?: string | undefined;
	cacheControl?: string | undefined;
	metadata?: Record<string, string> | undefined;
	ifNoneMatch?: '*' | undefined;
	ifMatch?: string | undefined;
};

/** Headers of an uploaded file. */
export type UploadOptions = {
	contentType: string;
	cacheControl: string;
	metadata?: Record<string, string> | undefined;
};
