/**
Reading a package zip without unpacking it: its entries from the central directory,
one entry's bytes on demand. yauzl does the format; this module adds the rules a
package zip must keep (no absolute paths, no `..`, one top folder) and small
promise wrappers.
*/

import type {Readable} from 'node:stream';
import {promisify} from 'node:util';
import yauzl from 'yauzl';
import {PackageError} from '../errors.js';

/** One file inside a zip. */
export type ZipEntry = {
	/** Its path inside the zip, `/`-separated. */
	readonly name: string;
	readonly size: number;
	readonly entry: yauzl.Entry;
};

/** An open zip: its file entries by path, and a way to read one. */
export type OpenZip = {
	readonly entries: ReadonlyMap<string, ZipEntry>;
	/** The entry's bytes, inflated and checked against its CRC by yauzl. */
	readonly open: (entry: ZipEntry) => Promise<Readable>;
	readonly close: () => void;
};

const openFile = promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open);
const fromReader = promisify<yauzl.RandomAccessReader, number, yauzl.Options, yauzl.ZipFile>(
	yauzl.fromRandomAccessReader,
);

/** A path that would leave the folder it is unpacked into, or names no file. */
function unsafe(name: string): boolean {
	return name.startsWith('/') || name.includes('\\') || name.split('/').some((part) => part === '..');
}

async function readDirectory(zip: yauzl.ZipFile, label: string): Promise<OpenZip> {
	const entries = new Map<string, ZipEntry>();
	try {
		await new Promise<void>((resolve, reject) => {
			zip.on('entry', (entry: yauzl.Entry) => {
				if (unsafe(entry.fileName)) {
					reject(new PackageError(`${label} holds an unsafe path: ${entry.fileName}`));
					return;
				}

				if (!entry.fileName.endsWith('/')) {
					entries.set(entry.fileName, {name: entry.fileName, size: entry.uncompressedSize, entry});
				}

				zip.readEntry();
			});
			zip.on('end', () => resolve());
			zip.on('error', reject);
			zip.readEntry();
		});
	} catch (error) {
		zip.close();
		throw error instanceof PackageError
			? error
			: new PackageError(`${label} is not a readable zip: ${(error as Error).message}`, {cause: error});
	}

	const openEntry = promisify<yauzl.Entry, Readable>(zip.openReadStream.bind(zip));
	return {entries, open: (entry) => openEntry(entry.entry), close: () => zip.close()};
}

/** Open a zip file on local disk; `label` names it in errors. Throws PackageError when it is not a zip. */
export async function openZipFile(path: string, label: string): Promise<OpenZip> {
	let zip: yauzl.ZipFile;
	try {
		zip = await openFile(path, {lazyEntries: true, autoClose: false, strictFileNames: true});
	} catch (error) {
		throw new PackageError(`${label} is not a readable zip: ${(error as Error).message}`, {cause: error});
	}

	return readDirectory(zip, label);
}

/** Open a zip through a random-access reader of `size` bytes (an object store's ranged reads). */
export async function openZipReader(
	reader: yauzl.RandomAccessReader,
	size: number,
	label: string,
): Promise<OpenZip> {
	let zip: yauzl.ZipFile;
	try {
		zip = await fromReader(reader, size, {lazyEntries: true, autoClose: false, strictFileNames: true});
	} catch (error) {
		throw new PackageError(`${label} is not a readable zip: ${(error as Error).message}`, {cause: error});
	}

	return readDirectory(zip, label);
}

/** A whole entry's bytes (a manifest, a README); refuses entries over `limit` bytes. */
export async function readEntry(zip: OpenZip, entry: ZipEntry, limit = 16 * 1024 * 1024): Promise<Buffer> {
	if (entry.size > limit) {
		throw new PackageError(`${entry.name} is ${entry.size} bytes, more than the ${limit} read whole`);
	}

	const chunks: Buffer[] = [];
	for await (const chunk of await zip.open(entry)) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}
