/**
What the tree handler asks of a store, and nothing about HTTP: one version of one
file (what it is, then its bytes), a folder's entries, and where else a file may be
fetched from. The directory (fs-source.ts) and the object store (s3-source.ts) answer
it; the handler (handler.ts) decides every status and header.
*/
import type {Context} from 'koa';
import type {PathKind} from '../../agent/catalog.js';
import type {ByteRange, FileMeta} from '../http/conditional.js';
import type {TreeRequest} from '../http/request-path.js';
import type {ListingEntry} from '../views/listing.js';

/**
A value, or a promise of it: a file answered from memory (a cached sidecar) is given
back at once, sparing the hot path of small files the promises of an async call.
*/
export type MaybePromise<T> = T | Promise<T>;

/** One version of one file, opened for one response: headers and bytes both come from it. */
export type TreeFile = {
	readonly meta: FileMeta;
	/**
	Send bytes `range` of this version as the body (or start to). 'changed' when the store
	no longer holds this version and nothing was sent: the handler starts over.
	*/
	readonly send: (ctx: Context, range: ByteRange) => MaybePromise<'sent' | 'changed'>;
	/** Let go of the version without sending bytes (a 304, a HEAD, an empty body, a 416). */
	readonly close: () => MaybePromise<void>;
};

/** What a path of the tree is in the store, looked up for one response. */
export type TreeFileLookup = {
	readonly request: TreeRequest;
	readonly kind: PathKind | undefined;
	/** The response will most likely be the whole file: a source may fetch bytes with the headers. */
	readonly wholeBody: boolean;
	/** This response is starting over after the version it opened was replaced: ask the store afresh. */
	readonly again: boolean;
};

/** One store as the tree handler sees it. */
export type TreeSource = {
	/** Before each request of the tree (the object store looks for a new manifest when due). */
	readonly beforeRequest?: (() => Promise<void>) | undefined;
	/** A folder's visible entries in listing order; undefined when there is no such folder. */
	readonly list: (request: TreeRequest) => Promise<ListingEntry[] | undefined>;
	/** The file at a path; 'folder' when the path is a folder. */
	readonly open: (lookup: TreeFileLookup) => MaybePromise<TreeFile | 'missing' | 'folder'>;
	/**
	The file at a path when its current version is held whole in memory (a small file
	served before), else undefined: what `open` would answer at once, for the fast path
	of small files (fast-files.ts). Only a source without `beforeRequest` offers it.
	*/
	readonly cached?: ((request: TreeRequest) => (FileMeta & {readonly body: Buffer}) | undefined) | undefined;
	/** A URL the client may fetch an artifact's bytes from directly, when the store offers one. */
	readonly redirectUrl?: ((relative: string) => Promise<string>) | undefined;
};
