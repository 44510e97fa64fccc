/**
Hashing on worker threads. Hashing is the one CPU-heavy step of a sync (SHA-512 runs
at well under a GiB/s), and on the main thread it competes with receiving and writing
the very bytes it hashes; in workers it overlaps with them and spreads over cores.
*/
import {availableParallelism} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Worker} from 'node:worker_threads';
import type {FileDigests, SignedDigestSpec} from './digest.js';
import type {HashReply, HashRequest} from './hash-worker.js';

/** A file's hashes fed chunk by chunk; `update` returns a promise when the caller should wait. */
export type FileHasher = {
	update(chunk: Uint8Array): Promise<void> | undefined;
	finish(): Promise<FileDigests>;
	/** Drop the job (the bytes will not all come); required when `finish` will not be called. */
	abort(): void;
};

/** The size of the pieces a job's bytes travel to its worker in. */
const batchBytes = 1024 * 1024;

/** Bytes a job may have queued at its worker before the sender waits. */
const maxInFlightBytes = 8 * 1024 * 1024;

type Job = {
	sent: number;
	hashed: number;
	waiting: (() => void) | undefined;
	done: ((digests: FileDigests) => void) | undefined;
	fail: (error: Error) => void;
};

type Slot = {worker: Worker; jobs: Map<number, Job>};

let slots: Slot[] | undefined;
let nextId = 1;

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
			if (job.waiting && job.sent - job.hashed <= maxInFlightBytes / 2) {
				const resume = job.waiting;
				job.waiting = undefined;
				resume();
			}

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
		slots = slots?.filter((other) => other !== slot);
	});
	// After the listeners, which ref the worker again: an idle pool must not keep the process alive.
	worker.unref();
	return slot;
}

function leastBusy(): Slot {
	slots ??= Array.from({length: Math.max(1, Math.min(4, availableParallelism()))}, startSlot);
	if (slots.length === 0) {
		slots.push(startSlot());
	}

	return slots.reduce((best, slot) => (slot.jobs.size < best.jobs.size ? slot : best));
}

/** Start hashing one file's bytes in a worker. */
export function createFileHasher(specs: readonly SignedDigestSpec[] = []): FileHasher {
	const slot = leastBusy();
	const id = nextId++;
	let failure: Error | undefined;
	const job: Job = {
		sent: 0,
		hashed: 0,
		waiting: undefined,
		done: undefined,
		fail(error) {
			failure = error;
			job.waiting?.();
		},
	};
	slot.jobs.set(id, job);
	// A job in flight keeps the process alive until its result is back.
	slot.worker.ref();
	const post = (message: HashRequest, transfer: ArrayBuffer[] = []) =>
		slot.worker.postMessage(message, transfer);
	post({op: 'start', id, specs});
	let batch: Uint8Array | undefined;
	let batchUsed = 0;
	const flush = () => {
		if (!batch || batchUsed === 0) {
			return;
		}

		const full = batchUsed === batch.length ? batch : batch.slice(0, batchUsed);
		post({op: 'update', id, chunk: full}, [full.buffer as ArrayBuffer]);
		job.sent += full.length;
		batch = undefined;
		batchUsed = 0;
	};

	return {
		update(chunk) {
			if (failure) {
				throw failure;
			}

			// Chunks are copied into 1 MiB batches, and each batch moves to the worker
			// without a second copy: fewer messages, and the hash runs on long inputs.
			let offset = 0;
			while (offset < chunk.length) {
				batch ??= new Uint8Array(batchBytes);
				const take = Math.min(chunk.length - offset, batch.length - batchUsed);
				batch.set(chunk.subarray(offset, offset + take), batchUsed);
				batchUsed += take;
				offset += take;
				if (batchUsed === batch.length) {
					flush();
				}
			}

			if (job.sent - job.hashed <= maxInFlightBytes) {
				return undefined;
			}

			return new Promise((resolve) => {
				job.waiting = resolve;
			});
		},
		abort() {
			if (slot.jobs.delete(id)) {
				post({op: 'drop', id});
				if (slot.jobs.size === 0) {
					slot.worker.unref();
				}
			}
		},
		finish() {
			return new Promise((resolve, reject) => {
				if (failure) {
					reject(failure);
					return;
				}

				job.done = resolve;
				job.fail = reject;
				flush();
				post({op: 'finish', id});
			});
		},
	};
}
