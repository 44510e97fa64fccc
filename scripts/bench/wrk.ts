/** Running wrk and reading its report. */
import {timed} from './lib.js';

export type WrkResult = {
	readonly requestsPerSecond: number;
	readonly bytesPerSecond: number;
	/** Latency percentiles in ms (with --latency). */
	readonly p50Ms: number;
	readonly p99Ms: number;
	readonly errors: string | undefined;
};

const byteUnits: Record<string, number> = {B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4};
const timeUnits: Record<string, number> = {us: 0.001, ms: 1, s: 1000, m: 60_000};

function quantity(text: string, units: Record<string, number>): number {
	const match = /^([\d.]+)([a-zA-Z]*)$/.exec(text.trim());
	if (!match) {
		throw new Error(`cannot read "${text}" from wrk`);
	}

	return Number(match[1]) * (units[match[2] ?? ''] ?? 1);
}

/** Parse wrk's text report. */
export function parseWrk(output: string): WrkResult {
	const line = (pattern: RegExp) => pattern.exec(output)?.[1];
	const rps = line(/^Requests\/sec:\s+(\S+)/m);
	const transfer = line(/^Transfer\/sec:\s+(\S+)/m);
	if (!rps || !transfer) {
		throw new Error(`unexpected wrk output:\n${output}`);
	}

	const errors = [line(/^\s+(Socket errors:.*)$/m), line(/^\s+(Non-2xx or 3xx responses:.*)$/m)]
		.filter(Boolean)
		.join('; ');
	return {
		requestsPerSecond: Number(rps),
		bytesPerSecond: quantity(transfer, byteUnits),
		p50Ms: quantity(line(/^\s+50%\s+(\S+)/m) ?? '0', timeUnits),
		p99Ms: quantity(line(/^\s+99%\s+(\S+)/m) ?? '0', timeUnits),
		errors: errors || undefined,
	};
}

/** The command line, for the report. */
export function wrkArgs(options: {
	url: string;
	connections: number;
	seconds: number;
	script?: string;
}): string[] {
	return [
		'-t2',
		`-c${options.connections}`,
		`-d${options.seconds}s`,
		'--latency',
		'--timeout',
		'60s',
		...(options.script ? ['-s', options.script] : []),
		options.url,
	];
}

/** Run wrk once. */
export async function wrk(options: Parameters<typeof wrkArgs>[0]): Promise<WrkResult> {
	const {stdout} = await timed('wrk', wrkArgs(options));
	return parseWrk(stdout);
}
