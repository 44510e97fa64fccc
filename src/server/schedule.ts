/**
Scheduled sync inside the server (`serve --sync-schedule`): the same sync as the
CLI's, under the same lock, so one container can serve and stay current. A run
that finds the lock held (a cron sync, an import) is skipped, not queued.
*/
import {Cron} from 'croner';
import type {Logger} from 'pino';
import type {SyncOptions} from '../agent/sync.js';
import {describeError, LockHeldError} from '../errors.js';
import {publicRunMessage} from './public-text.js';

/** What the page and /metrics show about the schedule. */
export type ScheduleInfo = {
	readonly expression: string;
	readonly nextRun: Date | undefined;
	readonly running: boolean;
	readonly lastRun:
		| {
				readonly startedAt: string;
				readonly finishedAt: string;
				readonly result: 'success' | 'failed' | 'skipped';
				/** Why it did not succeed, fit for the public page (no pids, hosts or paths). */
				readonly message?: string | undefined;
		  }
		| undefined;
};

/** A running schedule. */
export type Schedule = {
	readonly info: () => ScheduleInfo;
	/** Run now (outside the timetable); resolves when that run ends. */
	readonly runNow: () => Promise<void>;
	readonly stop: () => void;
};

/**
Start running sync with `options` on `expression`. `onChange` hears when a run
starts and ends (serve --workers tells the workers, which show the schedule).
*/
export function startSchedule(
	expression: string,
	options: SyncOptions,
	logger: Logger | undefined,
	onChange?: (info: ScheduleInfo) => void,
): Schedule {
	let running: Promise<void> | undefined;
	let lastRun: ScheduleInfo['lastRun'];
	const log = logger?.child({component: 'scheduled-sync'});

	const run = async () => {
		const startedAt = new Date().toISOString();
		log?.info({msg: 'scheduled sync starting'});
		try {
			// Loaded on the first run: a server without a schedule, or before its first
			// tick, does not carry the sync code's memory (got, openpgp) for nothing.
			const {sync} = await import('../agent/sync.js');
			const summary = await sync(options, (event) => {
				if (event.type === 'published' || event.type === 'failed' || event.type === 'warning') {
					log?.info({msg: event.type, event});
				}
			});
			lastRun = {startedAt, finishedAt: new Date().toISOString(), result: summary.result};
			log?.info({
				msg: `scheduled sync ${summary.result}: ${summary.published} published, ${summary.failed.length} failed`,
			});
		} catch (error) {
			const skipped = error instanceof LockHeldError;
			lastRun = {
				startedAt,
				finishedAt: new Date().toISOString(),
				result: skipped ? 'skipped' : 'failed',
				// Who holds the lock (pid, host, path) goes to the log only: this is shown publicly.
				message: publicRunMessage(skipped ? 'skipped' : 'failed', describeError(error)),
			};
			(skipped ? log?.warn.bind(log) : log?.error.bind(log))?.({
				msg: `scheduled sync ${skipped ? 'skipped' : 'failed'}: ${describeError(error)}`,
			});
		}
	};

	const runOnce = () => {
		if (!running) {
			running = run().finally(() => {
				running = undefined;
				onChange?.(info());
			});
			onChange?.(info());
		}

		return running;
	};

	// protect: a run still going when the next is due is not started twice.
	const job = new Cron(expression, {protect: true}, () => runOnce());
	const info = (): ScheduleInfo => ({
		expression,
		nextRun: job.nextRun() ?? undefined,
		running: running !== undefined,
		lastRun,
	});
	return {
		info,
		runNow: runOnce,
		stop: () => job.stop(),
	};
}
