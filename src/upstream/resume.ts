/** The partial file a download resumes: its size, its kept validator, and the headers that say where to resume. */
import {type FileHandle, readFile, stat} from 'node:fs/promises';

/** Write all of `chunk` at the file's end (a write may take less than it was given). */
export async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
	let done = 0;
	while (done < chunk.length) {
		const {bytesWritten} = await file.write(chunk, done, chunk.length - done);
		done += bytesWritten;
	}
}

/** An HTTP date header as a Date, or undefined when absent or malformed. */
export function parseDate(value: string | undefined): Date | undefined {
	if (!value) {
		return undefined;
	}

	const date = new Date(value);
	return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `bytes START-END/TOTAL` → its numbers, or undefined when malformed. */
export function parseContentRange(
	value: string | undefined,
): {start: number; total: number | undefined} | undefined {
	const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
	if (!match) {
		return undefined;
	}

	return {start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3])};
}

/** The size of the partial file at `path`; 0 when there is none. */
export async function fileSize(path: string): Promise<number> {
	try {
		return (await stat(path)).size;
	} catch {
		return 0;
	}
}

/** What is kept beside a partial file: where it came from, and the validator for If-Range. */
export type PartMeta = {url: string; validator: string};

/** The partial file's kept metadata, or undefined when missing or unreadable. */
export async function readMeta(path: string): Promise<PartMeta | undefined> {
	try {
		return JSON.parse(await readFile(path, 'utf8')) as PartMeta;
	} catch {
		return undefined;
	}
}
