/**
Hashing on worker threads. Hashing is the one CPU-heavy step of a sync (SHA-512 runs
at about a GiB/s), and on the main thread it competes with receiving and writing the
very bytes it hashes; in a worker it overlaps with them and spreads over cores.

Bytes reach a worker through a ring of shared memory per job: the main thread copies
each chunk in once, and only positions travel as messages. Moving every chunk as a
message of its own (or a transferred batch) cost more than the hash itself: the
serialising, one garbage buffer per batch in each thread, and the tens of MiB of
them each heap held before its collector ran. Small files are hashed on the calling
thread, where a hash costs less than the round trip to a worker.
*/
import {availableParallelism} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Worker} from 'node:worker_threads';
import {createLocalHasher, type FileDigests, type SignedDigestSpec} from './digest.js';
import type {HashReply, HashRequest} from './hash-worker.js';

/** A file's hashes fed chunk by chunk; `update` returns a promise when the caller should wait. */
export type FileHasher = {
	/** The chunk is copied before this returns or, when it returns a promise, before that settles. */
	update(chunk: Uint8Array): Promise<void> | undefined;
	finish(): Promise<FileDigests>;
	/** Drop the job (the bytes will not all come); required when `finish` will not be called. */
	abort(): void;
};

/**
The bytes a job may have in its ring, copied and not yet hashed. The worker keeps up
with the network, so for a large file a ring much larger than a few notifications is
only resident memory. A file of a few MiB (a sync of many) fits a larger ring almost
whole and never waits on the worker: measured on 300 files of 100 KiB-5 MiB, a 2 MiB
ring (and a 1 MiB write sink) cost about 5% more CPU and wall time than 4 MiB.
*/
function ringBytesFor(size: number | undefined): number {
	return size !== undefined && size < largeFileBytes ? 4 * 1024 * 1024 : 2 * 1024 * 1024;
}

/** Files from this size (or of no declared size) get the small ring. */
export const largeFileBytes = 64 * 1024 * 1024;

/** How many new bytes make the main thread tell the worker: fewer messages, long hash inputs. */
const notifyBytes = 512 * 1024;

/** Files up to this size are hashed where they are received (a 1 MiB SHA-512 takes about 1 ms). */
export const localMaxBytes = 1024 * 1024;

/** Where the bytes of a file of `size` bytes (undefined: not known) are hashed. */
export function hashingPath(size: number | undefined): 'local' | 'worker' {
	return size !== undefined && size <= localMaxBytes ? 'local' : 'worker';
}

type Job = {
	/** Bytes the worker has hashed (its last ack). */
	hashed: number;
	/** Called when an ack frees space in the ring. */
	waiting: (() => void) | undefined;
	done: ((digests: FileDigests) => void) | undefined;
	fail: (error: Error) => void;
};

type Slot = {worker: Worker; jobs: Map<number, Job>};

let slots: Slot[] = [];
let nextId = 1;
/** Rings of finished jobs, kept for the next: a fresh one costs page faults on every use. */
const spareRings: SharedArrayBuffer[] = [];

/** A kept ring of `bytes`, or a new one. */
function takeRing(bytes: number): SharedArrayBuffer {
	const at = spareRings.findIndex((ring) => ring.byteLength === bytes);
	return at === -1 ? new SharedArrayBuffer(bytes) : (spareRings.splice(at, 1)[0] as SharedArrayBuffer);
}

/** The worker's file sits beside this one, compiled (.js) or run from source (.ts, under tsx). */
function workerUrl(): URL {
	const extension = path.extname(fileURLToPath(import.meta.url));
	return new URL(`./hash-worker${extension}`, import.meta.url);
}

function startSlot(): Slot {
	const url = workerUrl();
	// Run from source (tests, tsx scripts), the worker registers the TypeScript loader itself:
	// loader flags do not reach worker threads on Node 20.
	const worker = url.pathname.endsWith('.ts')
		? new Worker(
				`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`,
				{eval: true},
			)
		: new Worker(url);
	const slot: Slot = {worker, jobs: new Map()};
	worker.on('message', (reply: HashReply) => {
		const job = slot.jobs.get(reply.id);
		if (!job) {
			return;
		}

		if (reply.op === 'ack') {
			job.hashed = reply.bytes;
			const resume = job.waiting;
			job.waiting = undefined;
			resume?.();
			return;
		}

		slot.jobs.delete(reply.id);
		if (slot.jobs.size === 0) {
			worker.unref();
		}

		job.done?.({sha512: reply.sha512, signed: reply.signed});
	});
	worker.on('error', (error) => {
		for (const job of slot.jobs.values()) {
			job.fail(error);
		}

		slot.jobs.clear();
		slots = slots.filter((other) => other !== slot);
	});
	// After the listeners, which ref the worker again: an idle pool must not keep the process alive.
	worker.unref();
	slots.push(slot);
	return slot;
}

/** An idle worker, a new one while there are fewer than the cores (at most 4), or the least busy. */
function pickSlot(): Slot {
	const idle = slots.find((slot) => slot.jobs.size === 0);
	if (idle) {
		return idle;
	}

	if (slots.length < Math.max(1, Math.min(4, availableParallelism()))) {
		return startSlot();
	}

	return slots.reduce((best, slot) => (slot.jobs.size < best.jobs.size ? slot : best));
}

/**
Start a hashing worker ahead of the download that will need it, so that its start
(tens of ms, more on a busy machine) overlaps with the requests before the body
instead of holding up the body's first MiBs. Does nothing when a worker is running.
*/
export function warmHashPool(): void {
	if (slots.length === 0) {
		startSlot();
	}
}

/** Hash on this thread: a small file, or any file when `size` says so. */
function localHasher(specs: readonly SignedDigestSpec[]): FileHasher {
	const hasher = createLocalHasher(specs);
	return {
		update(chunk) {
			hasher.update(chunk);
			return undefined;
		},
		finish: async () => hasher.finish(),
		abort() {
			// Nothing is held: the hash is dropped with the hasher.
		},
	};
}

/**
Start hashing one file's bytes. `size`, when known, picks where: a small file on
this thread, anything else in a worker.
*/
export function createFileHasher(
	specs: readonly SignedDigestSpec[] = [],
	options: {size?: number | undefined} = {},
): FileHasher {
	return hashingPath(options.size) === 'local'
		? localHasher(specs)
		: workerHasher(specs, ringBytesFor(options.size));
}

function workerHasher(specs: readonly SignedDigestSpec[], ringBytes: number): FileHasher {
	const slot = pickSlot();
	const id = nextId++;
	const shared = takeRing(ringBytes);
	const ring = new Uint8Array(shared);
	let failure: Error | undefined;
	let released = false;
	const job: Job = {
		hashed: 0,
		waiting: undefined,
		done: undefined,
		fail(error) {
			failure = error;
			const resume = job.waiting;
			job.waiting = undefined;
			resume?.();
		},
	};
	slot.jobs.set(id, job);
	// A job in flight keeps the process alive until its result is back.
	slot.worker.ref();
	const post = (message: HashRequest) => slot.worker.postMessage(message);
	post({op: 'start', id, specs, ring: shared});
	/** Bytes copied into the ring, and bytes the worker has been told of. */
	let written = 0;
	let notified = 0;
	const notify = () => {
		if (written > notified) {
			post({op: 'update', id, end: written});
			notified = written;
		}
	};

	/** Give the ring back for another job, once the worker no longer reads it. */
	const release = () => {
		if (!released) {
			released = true;
			spareRings.push(shared);
		}
	};

	/** Copy as much of `chunk` as the ring has room for; how much was copied. */
	const copyIn = (chunk: Uint8Array): number => {
		const room = ringBytes - (written - job.hashed);
		const take = Math.min(room, chunk.length);
		let done = 0;
		while (done < take) {
			const at = (written + done) % ringBytes;
			const piece = Math.min(take - done, ringBytes - at);
			ring.set(chunk.subarray(done, done + piece), at);
			done += piece;
		}

		written += take;
		if (written - notified >= notifyBytes) {
			notify();
		}

		return take;
	};

	/** Copy what did not fit, waiting for the worker to free room as it goes. */
	const copyRest = async (rest: Uint8Array): Promise<void> => {
		let remaining = rest;
		while (remaining.length > 0) {
			// The worker must know of every byte it is to free room from.
			notify();
			await new Promise<void>((resolve) => {
				job.waiting = resolve;
			});
			if (failure) {
				throw failure;
			}

			remaining = remaining.subarray(copyIn(remaining));
		}
	};

	return {
		update(chunk) {
			if (failure) {
				throw failure;
			}

			const copied = copyIn(chunk);
			return copied === chunk.length ? undefined : copyRest(chunk.subarray(copied));
		},
		abort() {
			if (slot.jobs.delete(id)) {
				post({op: 'drop', id});
				if (slot.jobs.size === 0) {
					slot.worker.unref();
				}
			}
			// A dropped job's ring may still be read by a worker that has not seen the drop:
			// it is not reused.
		},
		finish() {
			return new Promise((resolve, reject) => {
				if (failure) {
					reject(failure);
					return;
				}

				job.done = (digests) => {
					release();
					resolve(digests);
				};
				job.fail = reject;
				notify();
				post({op: 'finish', id});
			});
		},
	};
}
