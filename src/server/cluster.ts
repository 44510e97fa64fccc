/**
The primary of `serve --workers N`: it serves nothing itself. It forks N workers
that each run the single-process server on the same port (the cluster module hands
them the connections of one listening socket), replaces a worker that dies, passes
drain, cut and TLS reload on to every worker, merges their metrics for `/metrics`,
and runs the in-process sync schedule once (here, never in N workers).

Start: worker 1 first. When it cannot start (port in use, bad TLS files, a name
clash) it prints the one line a single process would and exits 1 or 2; the primary
then exits with the same code and prints nothing more. Then the others start.

A worker that dies unexpectedly is replaced after a delay that doubles with each
death in the last minute (0.1 s up to 10 s). Workers that die before they listen
five times in a row mean a restart cannot help: the primary says so in one line,
stops the rest, and exits 1.

Over 300 lines because start, restart, drain and give-up are transitions of one
table of workers, kept in one closure; split apart, each piece would need the
whole table and the others' flags.
*/
import cluster, {type Worker} from 'node:cluster';
import type {AddressInfo} from 'node:net';
import type {Logger} from 'pino';
import type {ServeConfig} from '../config/serve.js';
import {
	type Asker,
	answer,
	createAsker,
	isOurs,
	type ToPrimary,
	type ToWorker,
	type WorkerStart,
} from './cluster-messages.js';
import {type MetricJson, primaryMetrics} from './cluster-metrics.js';
import {type Schedule, type ScheduleInfo, startSchedule} from './schedule.js';

/** A running cluster, as serve's command drives it (the same shape as one process). */
export type ClusterServer = {
	/** Where it listens, e.g. `http://localhost:8080`. */
	readonly url: string;
	readonly metricsUrl: string | undefined;
	readonly address: AddressInfo;
	/** Every worker re-reads the TLS files; throws with the first worker's reason when one cannot. */
	readonly reloadTls: () => Promise<void>;
	/** Drain every worker; `draining` is called once no worker accepts any more. */
	readonly shutdown: (draining: () => void) => Promise<{cut: number}>;
	/** Close every connection of every worker now (a second signal). */
	readonly closeAllConnections: () => void;
	/** Settles with one line when the workers keep dying and the server gives up. */
	readonly failed: Promise<string>;
};

/** Failed starts in a row after which restarting is pointless. */
const maxFailedStarts = 5;
const firstRestartMs = 100;
const maxRestartMs = 10_000;
const askTimeoutMs = 5000;

type Slot = {
	readonly slot: number;
	readonly worker: Worker;
	readonly asker: Asker;
	listening: boolean;
	draining: boolean;
	cut: number;
};

/** How a worker ended, in words. */
function exitWords(code: number | null, signal: string | null): string {
	return signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
}

/**
The node flags of each of `count` workers: the primary's, plus V8 heap sizes that keep
N processes near one's memory, unless node was given its own. The old generation of
a node on a machine with a few GiB may grow to 4x its live objects before a full
collection: under an upgrade wave (1,000 clients, 2 workers) a worker's 25-30 MiB of
live objects showed as up to 78 MiB of heap; growing by half keeps it near 30 MiB.
The young generation (2 semi-spaces of up to 16 MiB each under load) is divided:
4 MiB / N per semi-space (at least 1). With the old generation bounded, 4 MiB
semi-spaces cost no measurable CPU per sidecar request against 8; alone, without it,
they did (~15%). 2 MiB (2 workers) took 1,000 slow clients' peak from 200 to 185 MiB.
*/
export function workerExecArgv(execArgv: readonly string[], count: number): string[] {
	const given = (name: string) => execArgv.some((flag) => flag.startsWith(name));
	return [
		...execArgv,
		...(given('--max-semi-space-size')
			? []
			: [`--max-semi-space-size=${Math.max(1, Math.floor(4 / count))}`]),
		...(given('--heap-growing-percent') ? [] : ['--heap-growing-percent=50']),
	];
}

/**
Start `config.workers` workers and resolve once all listen; or resolve with the
exit code of the first worker when it could not start (it has said why).
*/
export async function startCluster(
	config: ServeConfig,
	logger: Logger,
): Promise<ClusterServer | {readonly exitCode: number}> {
	const count = config.workers ?? 1;
	const slots = new Map<number, Slot>();
	const restartTimers = new Set<NodeJS.Timeout>();
	const recentExits: number[] = [];
	let failedStarts = 0;
	let stopping = false;
	let schedule: Schedule | undefined;
	let scheduleState: Pick<ScheduleInfo, 'running' | 'lastRun'> = {running: false, lastRun: undefined};
	let first: Extract<ToPrimary, {kind: 'mirror:listening'}> | undefined;
	let onListening: () => void = () => undefined;
	let giveUp: (line: string) => void = () => undefined;
	const failed = new Promise<string>((resolve) => {
		giveUp = resolve;
	});
	let onDrainingChange: () => void = () => undefined;
	let firstExit: ((code: number) => void) | undefined;

	cluster.setupPrimary({execArgv: workerExecArgv(process.execArgv, count)});

	const metrics = primaryMetrics(() => [...slots.values()].filter((entry) => entry.listening).length);
	const {syncSchedule: _ran, ...workerConfig} = config;
	const start: Omit<WorkerStart, 'slot'> = {
		config: workerConfig,
		scheduleExpression: config.syncSchedule?.expression,
	};

	const send = (entry: Slot, message: ToWorker) => {
		if (entry.worker.isConnected()) {
			entry.worker.send(message);
		}
	};

	const broadcast = (message: ToWorker) => {
		for (const entry of slots.values()) {
			send(entry, message);
		}
	};

	/** Every listening worker's metrics, and the primary's, merged. */
	const gatherMetrics = async (): Promise<string> => {
		const listening = [...slots.values()].filter((entry) => entry.listening);
		const answers = await Promise.allSettled(
			listening.map((entry) => entry.asker.ask('metrics-json', askTimeoutMs)),
		);
		const parts = answers.flatMap((outcome) =>
			outcome.status === 'fulfilled' ? [outcome.value as MetricJson[]] : [],
		);
		return metrics.merge(parts);
	};

	const onMessage = (entry: Slot, message: ToPrimary) => {
		switch (message.kind) {
			case 'mirror:hello': {
				send(entry, {kind: 'mirror:start', start: {...start, slot: entry.slot}});
				if (config.syncSchedule) {
					send(entry, {kind: 'mirror:schedule', state: scheduleState});
				}

				break;
			}

			case 'mirror:listening': {
				entry.listening = true;
				failedStarts = 0;
				first ??= message;
				onListening();
				break;
			}

			case 'mirror:draining': {
				entry.draining = true;
				onDrainingChange();
				break;
			}

			case 'mirror:stopped': {
				entry.cut = message.cut;
				break;
			}

			case 'mirror:ask': {
				if (message.question === 'metrics') {
					answer(message, gatherMetrics, (reply) => send(entry, reply));
				}

				break;
			}

			case 'mirror:answer': {
				entry.asker.settle(message);
				break;
			}
		}
	};

	let cut = 0;
	let onAllExited: () => void = () => undefined;

	const fork = (slot: number) => {
		const worker = cluster.fork();
		const entry: Slot = {
			slot,
			worker,
			asker: createAsker((ask) => send(entry, ask)),
			listening: false,
			draining: false,
			cut: 0,
		};
		slots.set(slot, entry);
		// A worker gone mid-send is handled by its exit; it must not crash the primary.
		worker.on('error', () => undefined);
		worker.on('message', (message: unknown) => {
			if (isOurs(message)) {
				onMessage(entry, message as ToPrimary);
			}
		});
		worker.on('exit', (code, signal) => {
			entry.asker.abandon('the worker exited');
			slots.delete(slot);
			cut += entry.cut;
			onDrainingChange();
			if (stopping) {
				if (slots.size === 0) {
					onAllExited();
				}

				return;
			}

			if (firstExit && !entry.listening) {
				// Worker 1 could not start: it printed why, and the primary ends with its code.
				firstExit(code ?? 1);
				return;
			}

			restart(entry, code, signal);
		});
	};

	const stopAll = () => {
		stopping = true;
		for (const timer of restartTimers) {
			clearTimeout(timer);
		}

		restartTimers.clear();
		schedule?.stop();
	};

	const restart = (entry: Slot, code: number | null, signal: string | null) => {
		if (!entry.listening) {
			failedStarts++;
		}

		if (failedStarts >= maxFailedStarts) {
			stopAll();
			for (const other of slots.values()) {
				other.worker.process.kill('SIGKILL');
			}

			giveUp(
				`workers keep exiting before they listen (${failedStarts} in a row; the last ${exitWords(code, signal)}); giving up`,
			);
			return;
		}

		const now = Date.now();
		recentExits.push(now);
		while ((recentExits[0] ?? now) < now - 60_000) {
			recentExits.shift();
		}

		const delay = Math.min(maxRestartMs, firstRestartMs * 2 ** (recentExits.length - 1));
		logger.warn({
			msg: `worker ${entry.slot} (pid ${entry.worker.process.pid}) ${exitWords(code, signal)}; starting another in ${delay} ms`,
		});
		const timer = setTimeout(() => {
			restartTimers.delete(timer);
			metrics.restarted();
			fork(entry.slot);
		}, delay);
		restartTimers.add(timer);
	};

	const allListening = () =>
		new Promise<void>((resolve) => {
			onListening = () => {
				if (slots.size === count && [...slots.values()].every((entry) => entry.listening)) {
					resolve();
				}
			};
		});

	// Worker 1 alone first: a server that cannot start says why once, not N times.
	const firstOutcome = await new Promise<number | undefined>((resolve) => {
		firstExit = resolve;
		onListening = () => resolve(undefined);
		fork(1);
	});
	firstExit = undefined;
	if (firstOutcome !== undefined) {
		stopAll();
		return {exitCode: firstOutcome};
	}

	const started = allListening();
	for (let slot = 2; slot <= count; slot++) {
		fork(slot);
	}

	onListening();
	const gaveUp = await Promise.race([started.then(() => undefined), failed]);
	if (gaveUp !== undefined) {
		process.stderr.write(`error: ${gaveUp}\n`);
		return {exitCode: 1};
	}

	onListening = () => undefined;
	if (config.syncSchedule) {
		schedule = startSchedule(config.syncSchedule.expression, config.syncSchedule.options, logger, (info) => {
			scheduleState = {running: info.running, lastRun: info.lastRun};
			broadcast({kind: 'mirror:schedule', state: scheduleState});
		});
	}

	const listening = first as Extract<ToPrimary, {kind: 'mirror:listening'}>;
	return {
		url: listening.url,
		metricsUrl: listening.metricsUrl,
		address: listening.address,
		failed,
		async reloadTls() {
			if (!config.tls) {
				return;
			}

			const outcomes = await Promise.allSettled(
				[...slots.values()].map((entry) => entry.asker.ask('reload-tls', askTimeoutMs * 2)),
			);
			const refused = outcomes.find((outcome) => outcome.status === 'rejected');
			if (refused) {
				throw refused.reason;
			}
		},
		shutdown(draining) {
			stopAll();
			const exited = new Promise<void>((resolve) => {
				onAllExited = resolve;
			});
			onDrainingChange = () => {
				if ([...slots.values()].every((entry) => entry.draining)) {
					onDrainingChange = () => undefined;
					draining();
				}
			};
			for (const entry of slots.values()) {
				if (entry.listening) {
					send(entry, {kind: 'mirror:drain'});
				} else {
					// Still starting: it holds no connection.
					entry.worker.process.kill('SIGKILL');
				}
			}

			onDrainingChange();
			// Each worker cuts what is left at --drain-timeout; one that hangs beyond that is killed.
			const hardStop = setTimeout(() => {
				for (const entry of slots.values()) {
					entry.worker.process.kill('SIGKILL');
				}
			}, config.drainTimeoutMs + 10_000);
			return (slots.size === 0 ? Promise.resolve() : exited).then(() => {
				clearTimeout(hardStop);
				return {cut};
			});
		},
		closeAllConnections() {
			broadcast({kind: 'mirror:cut'});
		},
	};
}
