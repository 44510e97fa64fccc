/**
One worker of `serve --workers N`: the same server a single process runs
(startServer), with the config the primary read and this worker's share of the
memory budgets, doing what the primary asks: drain, cut, reload TLS, and answer
`/metrics` for the whole server. Signals sent to a worker itself are ignored (a
terminal's Ctrl-C or a service manager may signal the whole group): the primary
receives them too and tells every worker, so each drains once.
*/
import type {AddressInfo} from 'node:net';
import process from 'node:process';
import {Cron} from 'croner';
import {Counter} from 'prom-client';
import {createLogger} from '../log.js';
import {
	type Ask,
	answer,
	createAsker,
	isOurs,
	type ToPrimary,
	type ToWorker,
	type WorkerStart,
} from './cluster-messages.js';
import {metricsForMerge} from './cluster-metrics.js';
import type {ScheduleInfo} from './schedule.js';
import {startServer} from './serve.js';

/** How long a worker waits for the primary's config, or for merged metrics. */
const startTimeoutMs = 30_000;
const metricsTimeoutMs = 10_000;

function send(message: ToPrimary, done?: () => void): void {
	process.send?.(message, undefined, {}, () => done?.());
}

/** Ask the primary for this worker's config, and hear everything it says after. */
function hello(onMessage: (message: ToWorker) => void): Promise<WorkerStart> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('the primary sent no config')), startTimeoutMs);
		process.on('message', (message: unknown) => {
			if (!isOurs(message)) {
				return;
			}

			const ours = message as ToWorker;
			if (ours.kind === 'mirror:start') {
				clearTimeout(timer);
				resolve(ours.start);
				return;
			}

			onMessage(ours);
		});
		send({kind: 'mirror:hello'});
	});
}

/** The schedule the primary runs, as the pages show it: the next run from the expression, the rest from the primary. */
function remoteSchedule(expression: string): {info: () => ScheduleInfo; set: (state: ToWorker) => void} {
	const timetable = new Cron(expression, {paused: true});
	let state: Pick<ScheduleInfo, 'running' | 'lastRun'> = {running: false, lastRun: undefined};
	return {
		info: () => ({expression, nextRun: timetable.nextRun() ?? undefined, ...state}),
		set: (message) => {
			if (message.kind === 'mirror:schedule') {
				state = message.state;
			}
		},
	};
}

/**
Run this worker until the primary has it drain; resolves with the exit code.
Throws when the server cannot start (the CLI prints the one line, as a single
process would, and the primary exits with the same code).
*/
export async function runWorker(): Promise<number> {
	const pending: ToWorker[] = [];
	const primary = createAsker((ask) => send(ask));
	let handle = (message: ToWorker) => {
		pending.push(message);
	};

	const {config, scheduleExpression, slot} = await hello((message) => handle(message));
	const logger = createLogger(1, {format: config.logFormat, level: config.logLevel});
	const schedule = scheduleExpression === undefined ? undefined : remoteSchedule(scheduleExpression);
	const server = await startServer({...config, syncSchedule: undefined}, logger, undefined, {
		schedule: schedule?.info,
	});
	const {registry} = server.mirrorApp.metrics;
	// /metrics (main port and --metrics-address) answers for every worker: the
	// primary gathers and merges. This worker's own metrics go out as JSON below.
	registry.metrics = async () => String(await primary.ask('metrics', metricsTimeoutMs));
	const requests = new Counter({
		name: 'mirror_worker_requests_total',
		help: 'Requests each worker process received (serve --workers), to see how the load is spread',
		labelNames: ['worker'],
		registers: [registry],
	});
	server.server.on('request', () => requests.inc({worker: String(slot)}));

	return new Promise((resolve) => {
		let draining = false;
		const onAsk = (ask: Ask) => {
			if (ask.question === 'metrics-json') {
				answer(ask, () => metricsForMerge(registry, String(slot)), send);
			} else if (ask.question === 'reload-tls') {
				answer(ask, () => server.reloadTls(), send);
			}
		};

		handle = (message) => {
			schedule?.set(message);
			if (message.kind === 'mirror:ask') {
				onAsk(message);
			} else if (message.kind === 'mirror:answer') {
				primary.settle(message);
			} else if (message.kind === 'mirror:cut') {
				server.server.closeAllConnections();
			} else if (message.kind === 'mirror:drain' && !draining) {
				draining = true;
				const stopped = server.shutdown();
				// The listener is closed (the primary heard that before this): new connections are refused.
				send({kind: 'mirror:draining'});
				void stopped.then(({cut}) => send({kind: 'mirror:stopped', cut}, () => resolve(0)));
			}
		};

		for (const message of pending.splice(0)) {
			handle(message);
		}

		send({
			kind: 'mirror:listening',
			url: server.url,
			metricsUrl: server.metricsUrl,
			address: server.server.address() as AddressInfo,
		});
	});
}
