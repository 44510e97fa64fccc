/**
Turns sync events into what a person or a log collector reads: progress bars on a
TTY, JSON lines otherwise, and a summary at the end in every mode.
*/
import path from 'node:path';
import cliProgress from 'cli-progress';
import {formatBytes, formatDuration} from '../format.js';
import {createLogger} from '../log.js';
import {redactText} from '../redact.js';
import type {EventSink, Summary, SyncEvent} from '../sync/events.js';

/** A sink plus whatever must happen when the run is over. */
export type Reporter = {
	readonly emit: EventSink;
	/** Print a fatal error (the run could not start or finish). */
	error(message: string, code: string): void;
	close(): void;
};

/** JSON lines on stdout through pino; progress ticks are left out. */
export function jsonReporter(): Reporter {
	const logger = createLogger(1);
	return {
		emit(event) {
			if (event.type === 'progress') {
				return;
			}

			const {type, ...fields} = event;
			const level =
				type === 'failed' ? 'error' : type === 'warning' || type === 'not-published' ? 'warn' : 'info';
			const message = type === 'summary' ? `sync ${event.summary.result}` : type;
			logger[level]({event: type, ...fields}, message);
		},
		error(message, code) {
			logger.error({event: 'error', code}, redactText(message));
		},
		close() {
			logger.flush();
		},
	};
}

/** The summary; failures already printed as they happened (`printed`) are not repeated. */
function summaryLines(summary: Summary, printed: ReadonlySet<string> = new Set()): string[] {
	if (summary.dryRun) {
		return [`dry run: nothing was downloaded or changed (${summary.present} already published)`];
	}

	const lines = [
		`${summary.result === 'success' ? 'done' : 'FAILED'}: ${summary.published} published, ${summary.present} already present, ` +
			`${summary.notPublished} not published upstream, ${summary.failed.length} failed; ` +
			`${formatBytes(summary.bytes)} downloaded in ${formatDuration(summary.durationMs)}`,
	];
	for (const failure of summary.failed) {
		if (!printed.has(failure.path)) {
			lines.push(`  failed: ${failure.path}: ${failure.reason}`);
		}
	}

	return lines;
}

/** One line for each event that matters to a person reading a log or a terminal. */
function describe(event: SyncEvent): string | undefined {
	switch (event.type) {
		case 'start': {
			const list = event.versionsApi
				? `; version list from ${event.versionsApi}${event.versionsApiNote ? ` (${event.versionsApiNote})` : ''}`
				: '';
			return `syncing ${event.files} files (versions ${event.versions.join(', ') || 'none'}${list}) from ${event.upstream} into ${event.dir}`;
		}

		case 'plan': {
			return event.action === 'skip'
				? `  skip   ${event.path} (${event.reason})`
				: `  ${event.action.padEnd(6)} ${event.path} (${event.reason})`;
		}

		case 'published': {
			const resumed = event.resumedFrom > 0 ? `, resumed at ${formatBytes(event.resumedFrom)}` : '';
			return `published ${event.path} (${formatBytes(event.size)}${resumed})`;
		}

		case 'present': {
			return `present   ${event.path} (${event.reason})`;
		}

		case 'not-published': {
			return `warning: ${event.path}: not published upstream`;
		}

		case 'failed': {
			return `error: ${event.path}: ${event.reason}`;
		}

		case 'warning': {
			return `warning: ${event.message}`;
		}

		case 'retry': {
			// The file name first and whole; the URL it was fetched from is left out (a
			// terminal cuts long lines, and the JSON event has it).
			const name = path.posix.basename(event.path);
			const reason = event.reason.replace(` for ${event.url}`, '').replace(` (${event.url})`, '');
			return `retry ${event.attempt}/${event.retries} ${name} in ${formatDuration(event.delayMs)}: ${reason}`;
		}

		default: {
			return undefined;
		}
	}
}

/** Plain lines, for a terminal that is not a TTY when JSON was turned off. */
export function textReporter(
	write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Reporter {
	const printed = new Set<string>();
	return {
		emit(event) {
			if (event.type === 'summary') {
				for (const line of summaryLines(event.summary, printed)) {
					write(line);
				}

				return;
			}

			if (event.type === 'failed') {
				printed.add(event.path);
			}

			const line = describe(event);
			if (line) {
				write(line);
			}
		},
		error(message) {
			process.stderr.write(`error: ${redactText(message)}\n`);
		},
		close() {},
	};
}

type FileBar = {bar: cliProgress.SingleBar; started: number};

/** Progress bars on a TTY: one overall, one per file being downloaded. */
export function ttyReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
	const text = textReporter((line) => process.stdout.write(`${line}\n`));
	const multibar = new cliProgress.MultiBar(
		{
			stream,
			hideCursor: true,
			clearOnComplete: true,
			fps: 10,
			format: (options, params, payload: {name: string; detail: string}) => {
				const size = 24;
				const complete = Math.round(params.progress * size);
				const bar =
					(options.barCompleteString ?? '').slice(0, complete) +
					(options.barIncompleteString ?? '').slice(0, size - complete);
				return `${payload.name.padEnd(44).slice(0, 44)} ${bar} ${String(Math.round(params.progress * 100)).padStart(3)}% ${payload.detail}`;
			},
		},
		cliProgress.Presets.shades_classic,
	);
	const bars = new Map<string, FileBar>();
	const started = Date.now();
	let overall: cliProgress.SingleBar | undefined;
	let filesTotal = 0;
	let filesDone = 0;
	let bytes = 0;
	const fileBytes = new Map<string, number>();

	const speedText = (amount: number, since: number) => {
		const seconds = (Date.now() - since) / 1000;
		return seconds > 0.2 ? `${formatBytes(amount / seconds)}/s` : '';
	};

	const updateOverall = () => {
		if (!overall) {
			return;
		}

		const remaining = filesTotal - filesDone;
		const rate = filesDone / ((Date.now() - started) / 1000);
		const eta = filesDone > 0 && remaining > 0 ? ` ETA ${formatDuration((remaining / rate) * 1000)}` : '';
		overall.update(filesDone, {
			name: 'overall',
			detail: `${filesDone}/${filesTotal} files ${formatBytes(bytes)} ${speedText(bytes, started)}${eta}`,
		});
	};

	const finishFile = (filePath: string) => {
		const entry = bars.get(filePath);
		if (entry) {
			multibar.remove(entry.bar);
			bars.delete(filePath);
		}

		filesDone++;
		updateOverall();
	};

	const log = (line: string | undefined) => {
		if (line) {
			multibar.log(`${line}\n`);
		}
	};

	return {
		emit(event) {
			switch (event.type) {
				case 'start': {
					log(describe(event));
					break;
				}

				case 'plan': {
					if (event.action === 'skip') {
						log(describe(event));
						break;
					}

					filesTotal++;
					overall ??= multibar.create(1, 0, {name: 'overall', detail: ''});
					overall.setTotal(filesTotal);
					updateOverall();
					break;
				}

				case 'download': {
					const total = event.total ?? 0;
					const bar = multibar.create(Math.max(total, 1), event.resumedFrom, {
						name: path.posix.basename(event.path),
						detail: '',
					});
					bars.set(event.path, {bar, started: Date.now()});
					fileBytes.set(event.path, event.resumedFrom);
					break;
				}

				case 'progress': {
					const entry = bars.get(event.path);
					const previous = fileBytes.get(event.path) ?? 0;
					bytes += event.bytes - previous;
					fileBytes.set(event.path, event.bytes);
					if (entry) {
						const total = entry.bar.getTotal();
						const elapsed = (Date.now() - entry.started) / 1000;
						const rate = elapsed > 0 ? event.bytes / elapsed : 0;
						const eta =
							rate > 0 && total > event.bytes
								? ` ETA ${formatDuration(((total - event.bytes) / rate) * 1000)}`
								: '';
						entry.bar.update(event.bytes, {
							name: path.posix.basename(event.path),
							detail: `${formatBytes(event.bytes)}/${formatBytes(total)} ${speedText(event.bytes, entry.started)}${eta}`,
						});
					}

					updateOverall();
					break;
				}

				case 'published':
				case 'present':
				case 'not-published':
				case 'failed': {
					log(describe(event));
					if (event.path.includes('/')) {
						finishFile(event.path);
					}

					break;
				}

				case 'summary': {
					multibar.stop();
					text.emit(event);
					break;
				}

				default: {
					log(describe(event));
				}
			}
		},
		error(message) {
			multibar.stop();
			process.stderr.write(`error: ${redactText(message)}\n`);
		},
		close() {
			multibar.stop();
		},
	};
}
