/**
Reading a zip without unpacking it (a package, a Defend manifest): its entries from
the central directory, one entry's bytes on demand. yauzl does the format; this
module refuses unsafe names (absolute paths, `..`) and adds small promise wrappers.
Errors are PackageError unless the caller names its own kind.
*/

import type {Readable} from 'node:stream';
import {promisify} from 'node:util';
import yauzl from 'yauzl';
import {type MirrorError, PackageError} from './errors.js';

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

/** How a caller's errors are made: its own kind of MirrorError for a bad zip. */
export type ZipFailure = (message: string, cause?: unknown) => MirrorError;

const packageFailure: ZipFailure = (message, cause) => new PackageError(message, {cause});

/** A path that would leave the folder it is unpacked into, or names no file. */
function unsafe(name: string): boolean {
	return name.startsWith('/') || name.includes('\\') || name.split('/').some((part) => part === '..');
}

async function readDirectory(zip: yauzl.ZipFile, label: string, fail: ZipFailure): Promise<OpenZip> {
	const entries = new Map<string, ZipEntry>();
	let unsafeName: Error | undefined;
	try {
		await new Promise<void>((resolve, reject) => {
			zip.on('entry', (entry: yauzl.Entry) => {
				if (unsafe(entry.fileName)) {
					unsafeName = fail(`${label} holds an unsafe path: ${entry.fileName}`);
					reject(unsafeName);
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
		throw error === unsafeName
			? error
			: fail(`${label} is not a readable zip: ${(error as Error).message}`, error);
	}

	const openEntry = promisify<yauzl.Entry, Readable>(zip.openReadStream.bind(zip));
	return {entries, open: (entry) => openEntry(entry.entry), close: () => zip.close()};
}

/** Open a zip file on local disk; `label` names it in errors, made by `fail` (PackageError by default). */
export async function openZipFile(path: string, label: string, fail = packageFailure): Promise<OpenZip> {
	let zip: yauzl.ZipFile;
	try {
		zip = await openFile(path, {lazyEntries: true, autoClose: false, strictFileNames: true});
	} catch (error) {
		throw fail(`${label} is not a readable zip: ${(error as Error).message}`, error);
	}

	return readDirectory(zip, label, fail);
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
		throw packageFailure(`${label} is not a readable zip: ${(error as Error).message}`, error);
	}

	return readDirectory(zip, label, packageFailure);
}

/** A whole entry's bytes (a manifest, a README); refuses entries over `limit` bytes. */
export async function readEntry(
	zip: OpenZip,
	entry: ZipEntry,
	limit = 16 * 1024 * 1024,
	fail = packageFailure,
): Promise<Buffer> {
	if (entry.size > limit) {
		throw fail(`${entry.name} is ${entry.size} bytes, more than the ${limit} read whole`);
	}

	const chunks: Buffer[] = [];
	for await (const chunk of await zip.open(entry)) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}
