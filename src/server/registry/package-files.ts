/**
The bytes of published package versions, read where the store keeps them: a
package info file whole, and single files from inside a zip without unpacking it.
A zip's central directory is read once and kept (a few kilobytes per version) for
the most recently used versions, so a page of icons costs one read each. The
directory opens the zip file; the object store reads it by ranged GETs
(s3-package-files.ts).
*/
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {type OpenZip, openZipFile} from '../../zip.js';

/** One published zip as the registry routes read it. */
export type ZipRef = {
	/** Its tree path, `epr/<n>/<n>-<v>.zip`. */
	readonly relative: string;
	readonly size: number;
	/** Its sha512 from the manifest: a zip published again under the same path is opened afresh. */
	readonly sha512: string;
};

/** Reads package files from one store. */
export type PackageFiles = {
	/** A small tree file's bytes (a package info), or undefined when the store does not hold it. */
	readonly readSmall: (relative: string) => Promise<Buffer | undefined>;
	/** The zip, opened (or the one already open); undefined when the store does not hold it. */
	readonly openZip: (zip: ZipRef) => Promise<OpenZip | undefined>;
	/** Close and drop a zip kept open (its reads failed: the store's copy may have been replaced). */
	readonly forget: (zip: ZipRef) => void;
	/** Close the zips kept open. */
	readonly close: () => void;
};

/** How many zips stay open (their central directories in memory, and on a directory a descriptor). */
const openZipsKept = 64;

/**
A cache of open zips over `open`: concurrent requests share one opening, the least
recently used is closed past `kept` (yauzl closes it once its reads in flight end).
*/
export function cachedZips(
	open: (zip: ZipRef) => Promise<OpenZip | undefined>,
	kept = openZipsKept,
): Pick<PackageFiles, 'openZip' | 'forget' | 'close'> {
	const zips = new Map<string, Promise<OpenZip | undefined>>();
	const closeLater = (opening: Promise<OpenZip | undefined>) => {
		void opening.then((zip) => zip?.close()).catch(() => undefined);
	};

	const keyOf = (zip: ZipRef) => `${zip.relative}\n${zip.sha512}`;
	return {
		openZip(zip) {
			const key = keyOf(zip);
			let opening = zips.get(key);
			if (opening) {
				// Most recently used last.
				zips.delete(key);
			} else {
				opening = open(zip);
				// A failed or missing zip is not kept: the next request tries again.
				void opening.then(
					(opened) => opened === undefined && zips.get(key) === opening && zips.delete(key),
					() => zips.get(key) === opening && zips.delete(key),
				);
			}

			zips.set(key, opening);
			while (zips.size > kept) {
				const [oldest] = zips;
				if (!oldest) break;
				zips.delete(oldest[0]);
				closeLater(oldest[1]);
			}

			return opening;
		},
		forget(zip) {
			const opening = zips.get(keyOf(zip));
			if (opening) {
				zips.delete(keyOf(zip));
				closeLater(opening);
			}
		},
		close() {
			for (const opening of zips.values()) {
				closeLater(opening);
			}

			zips.clear();
		},
	};
}

function isMissing(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException).code;
	return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Package files of the mirror directory at `root`. */
export function directoryPackageFiles(root: string): PackageFiles {
	const where = (relative: string) => path.join(root, ...relative.split('/'));
	return {
		async readSmall(relative) {
			try {
				return await readFile(where(relative));
			} catch (error) {
				if (isMissing(error)) {
					return undefined;
				}

				throw error;
			}
		},
		...cachedZips(async (zip) => {
			try {
				return await openZipFile(where(zip.relative), zip.relative);
			} catch (error) {
				if (isMissing((error as Error).cause)) {
					return undefined;
				}

				throw error;
			}
		}),
	};
}
