/**
One version of one file of the mirror directory, as the directory source reads it.

The file is opened once and everything (size, validators, bytes) comes from that open
descriptor. Sync publishes by rename, so a reader that opened the old file keeps
reading the old bytes to the end, and one that opens after the rename gets the new
file whole: never a mix, never a size that disagrees with the body. (koa-static stats
by path and opens again, which leaves a window for exactly that.)
*/
import {createHash} from 'node:crypto';
import {type BigIntStats, close, constants, fstat, lstatSync, open, read} from 'node:fs';
import {promisify} from 'node:util';
import type {FileMeta} from '../http/conditional.js';
import {isOpenAt} from './no-links.js';

const openAsync = promisify(open);
/** Close a descriptor. */
export const closeFile = promisify(close);
/** Stat an open descriptor, with nanosecond times. */
export const statFile = promisify(fstat) as (fd: number, options: {bigint: true}) => Promise<BigIntStats>;

/** A small file read whole, with the validators of the version read. */
export type LoadedFile = FileMeta & {readonly body: Buffer};

/** What identifies one version of a file: a file published by rename is a new inode. */
export function identityOf(info: BigIntStats): string {
	return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
}

/**
A strong validator from the file's identity, size and nanosecond mtime, in plain
hex: nginx's `"mtime-size"` form has a dash that Elastic Defend's tooling strips.
*/
export function metaOf(info: BigIntStats): FileMeta {
	const identity = identityOf(info);
	const lastModified = new Date(Number(info.mtimeMs));
	return {
		identity,
		size: Number(info.size),
		etag: `"${createHash('sha1').update(identity).digest('hex').slice(0, 32)}"`,
		lastModified,
		lastModifiedText: lastModified.toUTCString(),
	};
}

const missingCodes = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);
/** Open for reading, and fail (ELOOP) rather than follow a link in the last component. */
const openFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
One stat by path per request, of the path itself (a link is neither file nor folder). It
is synchronous on purpose: on a local disk it costs microseconds, far less than a round
trip through the thread pool.
*/
export function statPath(file: string): BigIntStats | undefined {
	try {
		return lstatSync(file, {bigint: true, throwIfNoEntry: false});
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

/**
A descriptor of the file at the real path `file`, or undefined when it is missing or
is no longer at that path (no-links.ts).
*/
export async function openFile(file: string): Promise<number | undefined> {
	try {
		const fd = await openAsync(file, openFlags);
		if (isOpenAt(fd, file)) {
			return fd;
		}

		// A folder on the way was replaced by a link since the path was checked.
		await closeFile(fd);
		return undefined;
	} catch (error) {
		if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) {
			return undefined;
		}

		throw error;
	}
}

/** Read up to `length` bytes at `position` into the start of `buffer`; resolves with the count read. */
export function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
	return new Promise((resolve, reject) => {
		read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
	});
}

/**
Read a file of at most `maxBytes` whole through one descriptor, so that bytes and
identity agree; 'large' when it is bigger (or grew while read).
*/
export async function loadSmall(file: string, maxBytes: number): Promise<LoadedFile | 'missing' | 'large'> {
	const fd = await openFile(file);
	if (fd === undefined) {
		return 'missing';
	}

	try {
		const info = await statFile(fd, {bigint: true});
		if (!info.isFile()) {
			return 'missing';
		}

		const meta = metaOf(info);
		if (meta.size > maxBytes) {
			return 'large';
		}

		const body = Buffer.alloc(meta.size);
		let filled = 0;
		while (filled < meta.size) {
			const bytesRead = await readAt(fd, body.subarray(filled), meta.size - filled, filled);
			if (bytesRead === 0) {
				break;
			}

			filled += bytesRead;
		}

		return filled === meta.size ? {...meta, body} : 'large';
	} finally {
		await closeFile(fd);
	}
}
