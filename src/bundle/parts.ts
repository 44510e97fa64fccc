/**
Bundles on size-limited media: the tar stream cut into numbered parts
(`bundle.tar.001`, `.002`, ...) on export, and read back in order on import.
Parts are plain byte slices, so `cat bundle.tar.* > bundle.tar` also works.
*/
import {createReadStream, createWriteStream, type WriteStream} from 'node:fs';
import {chmod, readdir, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import {Readable, Writable} from 'node:stream';
import {BundleError, UsageError} from '../errors.js';
import {fileMode} from '../store/modes.js';

/** The name of part `index` (1-based) of `out`. */
export function partName(out: string, index: number): string {
	return `${out}.${String(index).padStart(3, '0')}`;
}

/** A sink for the bundle bytes; `commit` makes the written files visible under their names. */
export type PartWriter = {
	readonly stream: Writable;
	/** The final file names, once committed. */
	commit(): Promise<string[]>;
	/** Remove everything written. */
	abort(): Promise<void>;
};

/**
Write to `out`, or to numbered parts of at most `splitSize` bytes. Each file is
written as `<name>.partial` and renamed by `commit`, so an interrupted export
never leaves a file that looks complete.
*/
export function createPartWriter(out: string, splitSize: number | undefined): PartWriter {
	const written: string[] = [];
	let current: WriteStream | undefined;
	let currentBytes = 0;
	const open = () => {
		const name = splitSize ? partName(out, written.length + 1) : out;
		written.push(name);
		current = createWriteStream(`${name}.partial`, {mode: fileMode});
		currentBytes = 0;
		return current;
	};

	const write = (file: WriteStream, chunk: Buffer) =>
		new Promise<void>((resolve, reject) => {
			file.write(chunk, (error) => (error ? reject(error) : resolve()));
		});
	const close = (file: WriteStream | undefined) =>
		new Promise<void>((resolve, reject) => {
			if (!file) {
				resolve();
				return;
			}

			file.end((error?: Error | null) => (error ? reject(error) : resolve()));
		});

	const stream = new Writable({
		async write(chunk: Buffer, _encoding, callback) {
			try {
				let rest = chunk;
				while (rest.length > 0) {
					const file = current ?? open();
					const room = splitSize ? splitSize - currentBytes : rest.length;
					const piece = rest.subarray(0, room);
					await write(file, piece);
					currentBytes += piece.length;
					rest = rest.subarray(piece.length);
					if (splitSize && currentBytes >= splitSize) {
						await close(file);
						current = undefined;
					}
				}

				callback();
			} catch (error) {
				callback(error as Error);
			}
		},
		async final(callback) {
			try {
				if (written.length === 0) {
					open();
				}

				await close(current);
				callback();
			} catch (error) {
				callback(error as Error);
			}
		},
	});

	return {
		stream,
		async commit() {
			for (const name of written) {
				// The mode given at creation is cut by the umask; a bundle is for others to read.
				await chmod(`${name}.partial`, fileMode);
				await rename(`${name}.partial`, name);
			}

			return [...written];
		},
		async abort() {
			current?.destroy();
			await Promise.all(written.map((name) => rm(`${name}.partial`, {force: true})));
		},
	};
}

/**
The files of a bundle in order. One name ending in `.001` brings its siblings
along; numbered parts must run from 001 without a gap.
*/
export async function expandParts(inputs: readonly string[]): Promise<string[]> {
	// A mistyped name is a usage error, not a "truncated or damaged" bundle.
	for (const input of inputs) {
		const info = await stat(input).catch((error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
				throw new UsageError(`bundle file ${path.resolve(input)} does not exist`);
			}

			throw error;
		});
		if (info.isDirectory()) {
			throw new UsageError(`${path.resolve(input)} is a folder, not a bundle file`);
		}
	}

	let files = [...inputs];
	const first = files[0];
	if (files.length === 1 && first && /\.001$/.test(first)) {
		const base = path.basename(first).slice(0, -4);
		const siblings = await readdir(path.dirname(first));
		files = siblings
			.filter((name) => name.startsWith(`${base}.`) && /^\d{3,}$/.test(name.slice(base.length + 1)))
			.sort()
			.map((name) => path.join(path.dirname(first), name));
	}

	const numbered = files.map((file) => /\.(\d{3,})$/.exec(file)?.[1]);
	if (files.length > 1 || numbered[0] !== undefined) {
		const sorted = [...files].sort();
		for (const [index, file] of sorted.entries()) {
			const expected = String(index + 1).padStart(3, '0');
			if (!file.endsWith(`.${expected}`)) {
				throw new BundleError(
					`part ${expected} of the bundle is missing (got ${path.basename(file)} where ${expected} should be)`,
				);
			}
		}

		files = sorted;
	}

	if (files.length === 0) {
		throw new UsageError('no bundle given: import FILE... or - for stdin');
	}

	return files;
}

/** One readable stream over all parts, in order. */
export function concatParts(files: readonly string[]): Readable {
	return Readable.from(
		(async function* () {
			for (const file of files) {
				yield* createReadStream(file, {highWaterMark: 1024 * 1024});
			}
		})(),
		{objectMode: false},
	);
}
