/**
The partial file a download resumes: its size, its kept validator, the headers that say
where to resume, and the sink that appends to it.
*/
import {type FileHandle, readFile, stat} from 'node:fs/promises';

/**
Bytes a sink may hold, received and not yet written, before the receiver waits. A
write to the page cache takes well under a millisecond per MiB: more only adds to
the peak memory of a download.
*/
const sinkMaxPendingBytes = 1024 * 1024;

/**
Chunks on their way to the end of a file, in order. One write is in flight at a time,
and whatever arrives meanwhile goes out in the next as one writev: receiving never
waits for a single chunk's write (at 64 KiB a chunk, that wait was most of a
download's time on a fast link), and there are far fewer calls.
*/
export type FileSink = {
	/** Queue `chunk`; a promise when the caller should wait before queueing more. Throws a failed write. */
	write(chunk: Buffer): Promise<void> | undefined;
	/** Wait until every queued chunk is written; rejects with a failed write. */
	flush(): Promise<void>;
};

/**
A sink appending to `file`; `maxPending` bounds the bytes it holds. `beforeWrite` runs
right before each write and may throw to stop it (a run that lost its lock).
*/
export function fileSink(
	file: Pick<FileHandle, 'writev'>,
	options: {maxPending?: number; beforeWrite?: (() => void) | undefined} = {},
): FileSink {
	const {maxPending = sinkMaxPendingBytes, beforeWrite} = options;
	let pending: Buffer[] = [];
	let pendingBytes = 0;
	/** Whether a pump is writing; its promise settles when nothing is pending. */
	let running = false;
	let inFlight: Promise<void> = Promise.resolve();
	let failure: unknown;
	const pump = async () => {
		// Set and cleared inside: a pump that fails before its first await is over at once.
		running = true;
		try {
			while (pending.length > 0 && failure === undefined) {
				const batch = pending;
				pending = [];
				pendingBytes = 0;
				beforeWrite?.();
				await writeAll(file, batch);
			}
		} catch (error) {
			failure = error;
		} finally {
			running = false;
		}
	};

	const check = () => {
		if (failure !== undefined) {
			throw failure;
		}
	};

	return {
		write(chunk) {
			check();
			pending.push(chunk);
			pendingBytes += chunk.length;
			if (!running) {
				inFlight = pump();
			}

			return pendingBytes >= maxPending ? inFlight.then(check) : undefined;
		},
		async flush() {
			while (running) {
				await inFlight;
			}

			check();
		},
	};
}

/** Write all of `chunks` at the file's end (a write may take less than it was given). */
async function writeAll(file: Pick<FileHandle, 'writev'>, chunks: Buffer[]): Promise<void> {
	let rest = chunks;
	while (rest.length > 0) {
		let {bytesWritten} = await file.writev(rest);
		while (rest.length > 0 && bytesWritten >= (rest[0] as Buffer).length) {
			bytesWritten -= (rest[0] as Buffer).length;
			rest = rest.slice(1);
		}

		if (bytesWritten > 0) {
			rest = [(rest[0] as Buffer).subarray(bytesWritten), ...rest.slice(1)];
		}
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
