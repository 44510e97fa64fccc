/**
Turns sync events into what a person or a log collector reads: progress bars on a
TTY, JSON lines otherwise, and a summary at the end in every mode.
*/
import path from 'node:path';
import cliProgress from 'cli-progress';
import {formatBytes, formatDuration} from '../format.js';
import {createLogger} from '../log.js';
import type {EventSink, SyncEvent} from '../mirror/events.js';
import {redactText} from '../redact.js';
import {type BarView, createProgress} from './progress.js';
import {summaryLines} from './summary-text.js';

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

/** One line for each event that matters to a person reading a log or a terminal. */
function describe(event: SyncEvent): string | undefined {
	switch (event.type) {
		case 'start': {
			const list = event.versionsApi
				? `; version list from ${event.versionsApi}${event.versionsApiNote ? ` (${event.versionsApiNote})` : ''}`
				: '';
			const packages = event.packages
				? `${event.packages.versions} package versions (Kibana ${event.packages.kibanaVersions.join(', ') || 'none'}) from ${event.packages.registry}`
				: '';
			const defend = event.defend
				? `Defend protections for ${event.defend.versions.join(', ') || 'no version'} from ${event.defend.upstream}`
				: '';
			const images = event.images
				? `images ${event.images.tags.join(', ')} from ${event.images.registry}`
				: '';
			// Without binaries selected there is nothing to say about them.
			const files =
				event.files > 0 || (!event.packages && !event.defend && !event.images)
					? `${event.files} files (versions ${event.versions.join(', ') || 'none'}${list}) from ${event.upstream}`
					: '';
			return `syncing ${[files, packages, defend, images].filter((part) => part !== '').join(' and ')} into ${event.dir}`;
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

/** Progress bars on a TTY: one overall (in bytes), one per file being downloaded. */
export function ttyReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
	let stopped = false;
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
				// Padded to line up, never cut: a file name is what a person looks for.
				return `${payload.name.padEnd(44)} ${bar} ${String(Math.round(params.progress * 100)).padStart(3)}% ${payload.detail}`;
			},
		},
		cliProgress.Presets.shades_classic,
	);
	// Lines go above the bars while they run, straight to stdout once they are gone.
	const text = textReporter((line) => {
		if (stopped) {
			process.stdout.write(`${line}\n`);
		} else {
			multibar.log(`${line}\n`);
		}
	});
	const progress = createProgress();
	const bars = new Map<string, cliProgress.SingleBar>();
	let overall: cliProgress.SingleBar | undefined;

	const render = (bar: cliProgress.SingleBar, view: BarView) => {
		// cli-progress wants a total above 0; an unknown size shows 0%.
		bar.setTotal(Math.max(view.total, 1));
		bar.update(Math.min(view.bytes, Math.max(view.total, 1)), {name: view.name, detail: view.detail});
	};

	const refresh = (filePath: string | undefined) => {
		const view = progress.overall();
		if (view) {
			overall ??= multibar.create(1, 0, {name: 'overall', detail: ''});
			render(overall, view);
		}

		if (filePath === undefined) {
			return;
		}

		const fileView = progress.file(filePath);
		const bar = bars.get(filePath);
		if (fileView) {
			render(
				bar ??
					(bars
						.set(filePath, multibar.create(1, 0, {name: fileView.name, detail: ''}))
						.get(filePath) as cliProgress.SingleBar),
				fileView,
			);
		} else if (bar) {
			multibar.remove(bar);
			bars.delete(filePath);
		}
	};

	const stop = () => {
		stopped = true;
		multibar.stop();
	};

	return {
		emit(event) {
			progress.apply(event);
			switch (event.type) {
				case 'summary': {
					stop();
					text.emit(event);
					return;
				}

				case 'progress':
				case 'download': {
					refresh(event.path);
					return;
				}

				case 'plan': {
					// Every file to work on is counted in the overall bar; only skips are listed.
					if (event.action === 'skip') {
						text.emit(event);
					}

					refresh(undefined);
					return;
				}

				default: {
					text.emit(event);
					refresh('path' in event ? event.path : undefined);
				}
			}
		},
		error(message) {
			stop();
			process.stderr.write(`error: ${redactText(message)}\n`);
		},
		close() {
			stop();
		},
	};
}
