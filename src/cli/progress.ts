/**
What the progress display says, from sync events and a clock, with no terminal in
sight (so that it can be tested): the overall progress in bytes, speeds that count
only bytes moved by this run (not what a resumed file already had on disk), ETAs
from those speeds, and key files counted apart from artifacts.
*/
import path from 'node:path';
import {formatBytes, formatDuration} from '../format.js';
import type {SyncEvent} from '../mirror/events.js';

/** One bar's numbers and text. */
export type BarView = {
	readonly name: string;
	readonly bytes: number;
	/** Bytes expected in all; for the overall bar, partly estimated until every file has started. */
	readonly total: number;
	readonly detail: string;
};

/** The progress model: feed it events, read bars. */
export type Progress = {
	apply(event: SyncEvent): void;
	/** undefined until a file is planned. */
	overall(): BarView | undefined;
	/** undefined unless `filePath` is being downloaded. */
	file(filePath: string): BarView | undefined;
};

type FileState = {
	total: number | undefined;
	bytes: number;
	/** Bytes on disk when this attempt started: not moved by it. */
	resumedFrom: number;
	started: number;
	active: boolean;
};

/** The overall speed is measured over this much recent time, so that it follows changes. */
const speedWindowMs = 10_000;
/** Speeds measured over less time than this are noise: none is shown. */
const minElapsedMs = 500;

/** Key files sit at the root; artifacts are under `downloads/`. */
function isArtifact(filePath: string): boolean {
	return filePath.includes('/');
}

/** Create the model; `now` is the clock (tests pass their own). */
export function createProgress(now: () => number = Date.now): Progress {
	const planned = new Set<string>();
	const finished = new Set<string>();
	const files = new Map<string, FileState>();
	const keys = {published: 0};
	let moved = 0;
	const samples: Array<{at: number; moved: number}> = [];

	const sample = () => {
		const at = now();
		samples.push({at, moved});
		while (samples.length > 2 && (samples[1]?.at ?? at) <= at - speedWindowMs) {
			samples.shift();
		}
	};

	/** Bytes per second over the last window, up to now: a stalled transfer shows its speed falling. */
	const overallSpeed = (): number | undefined => {
		const first = samples[0];
		const at = now();
		if (!first || at - first.at < minElapsedMs) {
			return undefined;
		}

		return ((moved - first.moved) * 1000) / (at - first.at);
	};

	const speedText = (speed: number | undefined) => (speed === undefined ? '' : ` ${formatBytes(speed)}/s`);
	const etaText = (remaining: number, speed: number | undefined) =>
		speed && speed > 0 && remaining > 0 ? ` ETA ${formatDuration((remaining / speed) * 1000)}` : '';

	return {
		apply(event) {
			switch (event.type) {
				case 'plan': {
					if (event.action !== 'skip') {
						planned.add(event.path);
					}

					break;
				}

				case 'download': {
					files.set(event.path, {
						total: event.total,
						bytes: event.resumedFrom,
						resumedFrom: event.resumedFrom,
						started: now(),
						active: true,
					});
					sample();
					break;
				}

				case 'progress': {
					const file = files.get(event.path);
					if (file) {
						moved += Math.max(0, event.bytes - file.bytes);
						file.bytes = event.bytes;
						sample();
					}

					break;
				}

				case 'published': {
					if (!isArtifact(event.path)) {
						keys.published++;
						break;
					}

					finished.add(event.path);
					const file = files.get(event.path);
					if (file) {
						file.active = false;
						file.total = event.size;
						file.bytes = event.size;
					}

					break;
				}

				case 'present':
				case 'not-published':
				case 'failed': {
					if (isArtifact(event.path)) {
						finished.add(event.path);
						// Bytes that will never arrive leave the totals: the bar can still reach 100%.
						files.delete(event.path);
					}

					break;
				}

				default: {
					break;
				}
			}
		},

		overall() {
			if (planned.size === 0) {
				return undefined;
			}

			let bytes = 0;
			let known = 0;
			let sized = 0;
			for (const file of files.values()) {
				if (file.total !== undefined) {
					bytes += file.bytes;
					known += file.total;
					sized++;
				}
			}

			// Files not started yet are assumed to be as large as the average of those
			// that have: an estimate that only improves, so the ETA does not jump up as
			// each file starts and reveals its size.
			const waiting = [...planned].filter(
				(file) => !finished.has(file) && files.get(file)?.total === undefined,
			).length;
			const estimated = sized > 0 ? waiting * (known / sized) : 0;
			const total = known + estimated;
			sample();
			const speed = overallSpeed();
			const sizes = total > 0 ? ` ${formatBytes(bytes)}/${waiting > 0 ? '~' : ''}${formatBytes(total)}` : '';
			const keyText =
				keys.published > 0 ? `, ${keys.published} key file${keys.published === 1 ? '' : 's'}` : '';
			return {
				name: 'overall',
				bytes,
				total,
				detail: `${finished.size}/${planned.size} files${keyText}${sizes}${speedText(speed)}${etaText(total - bytes, waiting > 0 && sized === 0 ? undefined : speed)}`,
			};
		},

		file(filePath) {
			const file = files.get(filePath);
			if (!file?.active) {
				return undefined;
			}

			const elapsed = now() - file.started;
			const speed = elapsed >= minElapsedMs ? ((file.bytes - file.resumedFrom) * 1000) / elapsed : undefined;
			const total = file.total ?? 0;
			const resumed = file.resumedFrom > 0 ? ` (resumed at ${formatBytes(file.resumedFrom)})` : '';
			return {
				name: path.posix.basename(filePath),
				bytes: file.bytes,
				total,
				detail: `${formatBytes(file.bytes)}/${file.total === undefined ? '?' : formatBytes(total)}${speedText(speed)}${etaText(total - file.bytes, speed)}${resumed}`,
			};
		},
	};
}
