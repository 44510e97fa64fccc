/**
Package files in an object store: a package info by one GET, files inside a zip by
ranged GETs of that one version of the zip (If-Match its ETag), through yauzl's
random-access reader: the central directory once, then each file's own bytes.
*/
import {Readable} from 'node:stream';
import yauzl from 'yauzl';
import type {S3Store} from '../../store/s3/client.js';
import {openZipReader} from '../../zip.js';
import {cachedZips, type PackageFiles} from './package-files.js';

/** The largest single ranged GET: a bigger read is several. */
const rangeBytes = 4 * 1024 * 1024;

/** A yauzl reader of bytes `start`..`end` (exclusive) of `relative` at ETag `etag`. */
function rangeReader(store: S3Store, relative: string, etag: string): yauzl.RandomAccessReader {
	class RangeReader extends yauzl.RandomAccessReader {
		override _readStreamForRange(start: number, end: number): Readable {
			return Readable.from(
				(async function* () {
					for (let from = start; from < end; from += rangeBytes) {
						yield await store.getRange(relative, from, Math.min(end, from + rangeBytes) - 1, etag);
					}
				})(),
			);
		}
	}

	return new RangeReader();
}

/** Package files of the mirror in `store`. */
export function s3PackageFiles(store: S3Store): PackageFiles {
	return {
		async readSmall(relative) {
			const got = await store.getBytes(relative);
			return got === undefined || got === 'not-modified' ? undefined : got.body;
		},
		...cachedZips(async (zip) => {
			const info = await store.head(zip.relative);
			if (!info) {
				return undefined;
			}

			return openZipReader(rangeReader(store, zip.relative, info.etag), info.size, zip.relative);
		}),
	};
}
