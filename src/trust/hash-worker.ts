/** A hashing thread: runs LocalHashers for the main thread's jobs, in message order. */
import {parentPort} from 'node:worker_threads';
import {createLocalHasher, type LocalHasher, type SignedDigestSpec} from './digest.js';

/** Messages from the main thread. */
export type HashRequest =
	| {readonly op: 'start'; readonly id: number; readonly specs: readonly SignedDigestSpec[]}
	| {readonly op: 'update'; readonly id: number; readonly chunk: Uint8Array}
	| {readonly op: 'finish'; readonly id: number}
	| {readonly op: 'drop'; readonly id: number};

/** Messages to the main thread: bytes hashed so far (for flow control), or the result. */
export type HashReply =
	| {readonly op: 'ack'; readonly id: number; readonly bytes: number}
	| {readonly op: 'done'; readonly id: number; readonly sha512: string; readonly signed: Uint8Array[]};

/** How often a job reports progress, so the sender can keep a bounded amount in flight. */
const ackEveryBytes = 1024 * 1024;

const jobs = new Map<number, {hasher: LocalHasher; bytes: number; acked: number}>();
parentPort?.on('message', (message: HashRequest) => {
	if (message.op === 'start') {
		jobs.set(message.id, {hasher: createLocalHasher(message.specs), bytes: 0, acked: 0});
		return;
	}

	const job = jobs.get(message.id);
	if (!job) {
		return;
	}

	if (message.op === 'update') {
		job.hasher.update(message.chunk);
		job.bytes += message.chunk.length;
		if (job.bytes - job.acked >= ackEveryBytes) {
			job.acked = job.bytes;
			parentPort?.postMessage({op: 'ack', id: message.id, bytes: job.bytes} satisfies HashReply);
		}

		return;
	}

	jobs.delete(message.id);
	if (message.op === 'drop') {
		return;
	}

	const {sha512, signed} = job.hasher.finish();
	parentPort?.postMessage({op: 'done', id: message.id, sha512, signed: [...signed]} satisfies HashReply);
});
