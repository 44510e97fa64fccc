/**
A hashing thread: runs LocalHashers for the main thread's jobs, in message order. Each
job's bytes are in a ring of shared memory; messages say how far the main thread has
filled it, and the acks say how far it has been hashed, so that the space can be reused.
*/
import {parentPort} from 'node:worker_threads';
import {createLocalHasher, type LocalHasher, type SignedDigestSpec} from './digest.js';

/** Messages from the main thread. */
export type HashRequest =
	| {
			readonly op: 'start';
			readonly id: number;
			readonly specs: readonly SignedDigestSpec[];
			/** The job's ring: byte n of the file is at n modulo its length. */
			readonly ring: SharedArrayBuffer;
	  }
	/** The ring holds the file's bytes up to `end` (a count from the file's start). */
	| {readonly op: 'update'; readonly id: number; readonly end: number}
	| {readonly op: 'finish'; readonly id: number}
	| {readonly op: 'drop'; readonly id: number};

/** Messages to the main thread: bytes hashed so far (their room in the ring is free), or the result. */
export type HashReply =
	| {readonly op: 'ack'; readonly id: number; readonly bytes: number}
	| {readonly op: 'done'; readonly id: number; readonly sha512: string; readonly signed: Uint8Array[]};

const jobs = new Map<number, {hasher: LocalHasher; ring: Uint8Array; hashed: number}>();
parentPort?.on('message', (message: HashRequest) => {
	if (message.op === 'start') {
		jobs.set(message.id, {
			hasher: createLocalHasher(message.specs),
			ring: new Uint8Array(message.ring),
			hashed: 0,
		});
		return;
	}

	const job = jobs.get(message.id);
	if (!job) {
		return;
	}

	if (message.op === 'update') {
		const {ring} = job;
		while (job.hashed < message.end) {
			const at = job.hashed % ring.length;
			const piece = Math.min(message.end - job.hashed, ring.length - at);
			job.hasher.update(ring.subarray(at, at + piece));
			job.hashed += piece;
		}

		parentPort?.postMessage({op: 'ack', id: message.id, bytes: job.hashed} satisfies HashReply);
		return;
	}

	jobs.delete(message.id);
	if (message.op === 'drop') {
		return;
	}

	const {sha512, signed} = job.hasher.finish();
	parentPort?.postMessage({op: 'done', id: message.id, sha512, signed: [...signed]} satisfies HashReply);
});
