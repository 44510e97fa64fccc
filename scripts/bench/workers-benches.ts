/**
The memory of a whole serve process tree (`serve --workers N`: the primary and its
workers), for the benchmarks that measure serve's RSS. Summing each process's RSS
counts the pages they share (node's code, mapped from the same file) once per
process; the figure the benchmarks judge counts them once: the anonymous memory of
every process plus the largest file-backed part, which is what a container's memory
limit charges. The plain sum is reported beside it.
*/
import {existsSync, readFileSync} from 'node:fs';

/** One reading of a process tree's memory, in bytes. */
export type TreeMemory = {
	/** Sum of every process's RSS (shared pages counted in each). */
	readonly rssSum: number;
	/** Sum of anonymous and shmem RSS, plus the largest file-backed RSS: shared code counted once. */
	readonly once: number;
	/** Sum of every process's peak RSS (VmHWM): an upper bound of the tree's peak. */
	readonly hwmSum: number;
	readonly processes: number;
};

function children(pid: number): number[] {
	const file = `/proc/${pid}/task/${pid}/children`;
	if (!existsSync(file)) {
		return [];
	}

	const direct = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
	return direct.flatMap((child) => [child, ...children(child)]);
}

/** The memory of `pid` and all its descendants now. */
export function treeMemory(pid: number): TreeMemory {
	let rssSum = 0;
	let private_ = 0;
	let file = 0;
	let hwmSum = 0;
	let processes = 0;
	for (const member of [pid, ...children(pid)]) {
		let status: string;
		try {
			status = readFileSync(`/proc/${member}/status`, 'utf8');
		} catch {
			continue;
		}

		const field = (name: string) =>
			Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
		processes++;
		rssSum += field('VmRSS');
		hwmSum += field('VmHWM');
		private_ += field('RssAnon') + field('RssShmem');
		file = Math.max(file, field('RssFile'));
	}

	return {rssSum, once: private_ + file, hwmSum, processes};
}

/** Sample the tree of `pid` every `everyMs` until stopped; the peaks of each figure. */
export function watchTreeMemory(pid: number, everyMs = 200): {stop: () => TreeMemory} {
	let peak: TreeMemory = treeMemory(pid);
	const take = () => {
		const now = treeMemory(pid);
		peak = {
			rssSum: Math.max(peak.rssSum, now.rssSum),
			once: Math.max(peak.once, now.once),
			hwmSum: Math.max(peak.hwmSum, now.hwmSum),
			processes: Math.max(peak.processes, now.processes),
		};
	};

	const timer = setInterval(take, everyMs);
	return {
		stop: () => {
			clearInterval(timer);
			take();
			return peak;
		},
	};
}

/** A tree's memory in words, for a result's extra column. */
export function treeWords(memory: TreeMemory): string {
	const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
	return `${mib(memory.once)} shared code once; ${mib(memory.rssSum)} summed RSS; ${mib(memory.hwmSum)} summed peaks; ${memory.processes} processes`;
}

/**
Wait until every worker of the server at `url` listens: the first answers before the
others are up, and connections made before then would all stay on it. A single
process (no `mirror_workers` in its metrics) is ready at once.
*/
export async function allWorkersUp(url: string, workers: number): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		const text = await fetch(`${url}/metrics`).then(
			(response) => response.text(),
			() => '',
		);
		const listening = /^mirror_workers (\d+)$/m.exec(text)?.[1];
		if (text && (listening === undefined || Number(listening) >= workers)) {
			return;
		}

		await new Promise((resolve) => setTimeout(resolve, 50));
	}

	throw new Error(`${url}: not all ${workers} workers listen after 30 s`);
}
