/**
What the primary and the workers of `serve --workers N` say to each other over the
cluster's IPC channel, and a small request/answer helper on top of it. Every kind
starts with `mirror:` so that the messages of Node's cluster itself never match.
*/
import type {AddressInfo} from 'node:net';
import type {ServeConfig} from '../config/serve.js';
import type {ScheduleInfo} from './schedule.js';

/** What a worker is told at start: the config the primary read (never re-read by the worker) and its slot. */
export type WorkerStart = {
	/** The primary's config without the schedule, which only the primary runs. */
	readonly config: Omit<ServeConfig, 'syncSchedule'>;
	/** The schedule's expression, for the pages' "next run"; the primary runs it. */
	readonly scheduleExpression: string | undefined;
	/** 1..N: the worker's place, kept by the worker that replaces it (the `worker` label of metrics). */
	readonly slot: number;
};

/** What the pages show of a schedule that runs in the primary. */
export type ScheduleState = Pick<ScheduleInfo, 'running' | 'lastRun'>;

/** Questions either side asks and waits for. */
export type Question = 'metrics' | 'metrics-json' | 'reload-tls';

/** Messages from the primary to a worker. */
export type ToWorker =
	| {readonly kind: 'mirror:start'; readonly start: WorkerStart}
	| {readonly kind: 'mirror:drain'}
	| {readonly kind: 'mirror:cut'}
	| {readonly kind: 'mirror:schedule'; readonly state: ScheduleState}
	| Ask
	| Answer;

/** Messages from a worker to the primary. */
export type ToPrimary =
	| {readonly kind: 'mirror:hello'}
	| {
			readonly kind: 'mirror:listening';
			readonly url: string;
			readonly metricsUrl: string | undefined;
			readonly address: AddressInfo;
	  }
	| {readonly kind: 'mirror:draining'}
	| {readonly kind: 'mirror:stopped'; readonly cut: number}
	| Ask
	| Answer;

/** A question; answered by an Answer with the same id. */
export type Ask = {readonly kind: 'mirror:ask'; readonly id: number; readonly question: Question};

/** The answer to the Ask with `id`: a value, or why there is none. */
export type Answer = {
	readonly kind: 'mirror:answer';
	readonly id: number;
	readonly value?: unknown;
	readonly error?: string | undefined;
};

/** Whether `message` is one of ours (and not one of Node's cluster or prom-client's). */
export function isOurs(message: unknown): message is {kind: string} {
	return (
		typeof message === 'object' &&
		message !== null &&
		typeof (message as {kind?: unknown}).kind === 'string' &&
		(message as {kind: string}).kind.startsWith('mirror:')
	);
}

/** Asks over one channel and settles them when their answers arrive. */
export type Asker = {
	/** Ask `question`; rejects after `timeoutMs`, or when the answer carries an error. */
	readonly ask: (question: Question, timeoutMs: number) => Promise<unknown>;
	/** Settle the question `answer` answers (an answer to nothing asked is dropped). */
	readonly settle: (answer: Answer) => void;
	/** Reject every question still waiting (the other side is gone). */
	readonly abandon: (reason: string) => void;
};

/** An asker that sends its questions with `send`. */
export function createAsker(send: (ask: Ask) => void): Asker {
	let next = 0;
	const waiting = new Map<number, {resolve: (value: unknown) => void; reject: (error: Error) => void}>();
	return {
		ask(question, timeoutMs) {
			const id = next++;
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					waiting.delete(id);
					reject(new Error(`no answer to ${question} within ${timeoutMs} ms`));
				}, timeoutMs);
				waiting.set(id, {
					resolve: (value) => {
						clearTimeout(timer);
						resolve(value);
					},
					reject: (error) => {
						clearTimeout(timer);
						reject(error);
					},
				});
				send({kind: 'mirror:ask', id, question});
			});
		},
		settle(answer) {
			const entry = waiting.get(answer.id);
			waiting.delete(answer.id);
			if (answer.error === undefined) {
				entry?.resolve(answer.value);
			} else {
				entry?.reject(new Error(answer.error));
			}
		},
		abandon(reason) {
			for (const entry of waiting.values()) {
				entry.reject(new Error(reason));
			}

			waiting.clear();
		},
	};
}

/** Answer `ask` with what `compute` gives, or with its error's message. */
export function answer(ask: Ask, compute: () => Promise<unknown>, send: (answer: Answer) => void): void {
	compute().then(
		(value) => send({kind: 'mirror:answer', id: ask.id, value}),
		(error: unknown) =>
			send({
				kind: 'mirror:answer',
				id: ask.id,
				error: error instanceof Error ? error.message : String(error),
			}),
	);
}
