/** Benchmarks 1-3 and 7: serving, against nginx with sendfile on the same tree. */
import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {writeFile} from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type {Fixtures} from './fixtures.js';
import {freePort, getOnce, median, percentile, stop, waitFor} from './lib.js';
import {startNginx} from './nginx.js';
import {measure, type Result} from './report.js';
import {allWorkersUp, type TreeMemory, treeMemory, treeWords, watchTreeMemory} from './workers-benches.js';
import {wrk, wrkArgs} from './wrk.js';

export type ServeBenchContext = {
	readonly fixtures: Fixtures;
	readonly cli: string;
	/** The mirror both servers serve: the 3,000 artifacts plus the large one. */
	readonly mirrorDir: string;
	readonly workDir: string;
	readonly repeat: number;
	readonly seconds: number;
	readonly slowClients: number;
	readonly slowSeconds: number;
	readonly log: (line: string) => void;
	readonly commands: string[];
};

type Server = {url: string; child: ChildProcess};

/** serve's command line; without `--workers`, one worker per core (the default). */
export function serveArgs(context: ServeBenchContext, port: number, extra: readonly string[] = []): string[] {
	return [
		context.cli,
		'serve',
		'--dir',
		context.mirrorDir,
		'--host',
		'127.0.0.1',
		'--port',
		String(port),
		'--no-access-log',
		...extra,
	];
}

/** The number of workers `extra` asks for, else the default. */
function workersOf(extra: readonly string[]): number {
	const given = extra.indexOf('--workers');
	return given >= 0 ? Number(extra[given + 1]) : os.availableParallelism();
}

async function startOurs(context: ServeBenchContext, extra: readonly string[] = []): Promise<Server> {
	const port = await freePort();
	const child = spawn(process.execPath, serveArgs(context, port, extra), {
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	const url = `http://127.0.0.1:${port}`;
	await waitFor(`${url}/healthz`);
	await allWorkersUp(url, workersOf(extra));
	return {url, child};
}

async function both<T>(
	context: ServeBenchContext,
	action: (base: string, side: 'ours' | 'nginx') => Promise<T>,
	extra: readonly string[] = [],
): Promise<{ours: T[]; nginx: T[]}> {
	const ours = await startOurs(context, extra);
	const nginx = await startNginx({root: context.mirrorDir, port: await freePort(), workDir: context.workDir});
	const results = {ours: [] as T[], nginx: [] as T[]};
	try {
		for (let run = 0; run < context.repeat; run++) {
			const order = run % 2 === 0 ? (['ours', 'nginx'] as const) : (['nginx', 'ours'] as const);
			for (const side of order) {
				results[side].push(await action(side === 'ours' ? ours.url : nginx.url, side));
			}
		}
	} finally {
		await stop(ours.child);
		await nginx.close();
	}

	return results;
}

/** 1: aggregate throughput of the 256 MiB file at 16 and 64 clients. */
export async function serveLarge(context: ServeBenchContext): Promise<Result[]> {
	const results: Result[] = [];
	const file = `/${context.fixtures.large.refs[0]?.path}`;
	for (const connections of [16, 64]) {
		context.log(`1. serve, large file, ${connections} clients`);
		context.commands.push(
			`1, both servers: \`wrk ${wrkArgs({url: `<base>${file}`, connections, seconds: context.seconds}).join(' ')}\``,
		);
		const {ours, nginx} = await both(context, async (base, side) => {
			const result = await wrk({url: `${base}${file}`, connections, seconds: context.seconds});
			if (result.errors) {
				throw new Error(`${side}: ${result.errors}`);
			}

			context.log(`    ${side}: ${(result.bytesPerSecond / 1024 ** 2).toFixed(0)} MiB/s`);
			return result.bytesPerSecond / 1024 ** 2;
		});
		const ratio = median(ours) / median(nginx);
		results.push({
			id: `1${connections === 16 ? 'a' : 'b'}`,
			title: `Serve the 256 MiB file, ${connections} clients (aggregate throughput)`,
			ours: measure(ours, 'MiB/s', median(ours)),
			theirs: {...measure(nginx, 'MiB/s', median(nginx)), label: 'nginx sendfile'},
			target: '>= 0.9x nginx',
			met: ratio >= 0.9,
		});
	}

	return results;
}

/** 2: sidecars, 100 keep-alive connections over 600 different small files; 2b: the same with `--workers 1`. */
export async function serveSidecars(
	context: ServeBenchContext,
	variant: {id: string; extra: readonly string[]} = {id: '2', extra: []},
): Promise<Result> {
	const single = variant.extra.length > 0;
	context.log(
		`${variant.id}. serve, sidecars, 100 connections${single ? ` (${variant.extra.join(' ')})` : ''}`,
	);
	const paths = context.fixtures.scale.refs
		.slice(0, 300)
		.flatMap((ref) => [`/${ref.path}.sha512`, `/${ref.path}.asc`]);
	const script = path.join(context.workDir, 'sidecars.lua');
	await writeFile(
		script,
		`local paths = {${paths.map((entry) => `"${entry}"`).join(',')}}\n` +
			'local i = 0\n' +
			'request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n',
	);
	context.commands.push(
		`${variant.id}, both servers${single ? ` (serve ${variant.extra.join(' ')})` : ''}: \`wrk ${wrkArgs({url: '<base>/', connections: 100, seconds: context.seconds, script: 'sidecars.lua'}).join(' ')}\` (the script cycles through ${paths.length} .sha512 and .asc paths)`,
	);
	const {ours, nginx} = await both(
		context,
		async (base, side) => {
			const result = await wrk({url: `${base}/`, connections: 100, seconds: context.seconds, script});
			if (result.errors) {
				throw new Error(`${side}: ${result.errors}`);
			}

			context.log(
				`    ${side}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`,
			);
			return result;
		},
		variant.extra,
	);
	const oursRps = ours.map((entry) => entry.requestsPerSecond);
	const nginxRps = nginx.map((entry) => entry.requestsPerSecond);
	const oursP99 = ours.map((entry) => entry.p99Ms);
	const ratio = median(oursRps) / median(nginxRps);
	return {
		id: variant.id,
		title: `Serve sidecars, 100 keep-alive connections (requests/s)${single ? `, ${variant.extra.join(' ')}` : ''}`,
		ours: measure(oursRps, 'req/s', median(oursRps)),
		theirs: {...measure(nginxRps, 'req/s', median(nginxRps)), label: 'nginx'},
		extra: {
			'p99 latency, this project (ms)': oursP99.map((value) => value.toFixed(2)).join(', '),
			'p99 latency, nginx (ms)': nginx.map((entry) => entry.p99Ms.toFixed(2)).join(', '),
		},
		target: '>= 0.5x nginx, p99 < 20 ms',
		met: ratio >= 0.5 && median(oursP99) < 20,
	};
}

/** What scripts/bench/slow-clients.ts reports. */
export type SlowClientsSummary = {ok: number; failed: number; errors: object; bytes: number; ms: number};

/** Run scripts/bench/slow-clients.ts in its own process against `url`, comparing with `file`. */
export async function runSlowClients(options: {
	url: string;
	file: string;
	clients: number;
	slowSeconds: number;
	rate: number;
}): Promise<SlowClientsSummary> {
	const child = spawn(
		process.execPath,
		[
			'--import',
			'tsx/esm',
			path.join(import.meta.dirname, 'slow-clients.ts'),
			options.url,
			options.file,
			String(options.clients),
			String(options.slowSeconds),
			String(options.rate),
		],
		{stdio: ['ignore', 'pipe', 'inherit']},
	);
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	await once(child, 'close');
	return JSON.parse(output) as SlowClientsSummary;
}

/** The result of a slow-clients run: the server's peak RSS against the target, and what completed. */
export function slowClientsResult(run: {
	id: string;
	title: string;
	/** The server's process tree's memory before the run, and its peak during it. */
	idle: TreeMemory;
	peak: TreeMemory;
	clients: number;
	summary: SlowClientsSummary;
	log: (line: string) => void;
}): Result {
	const {summary, clients} = run;
	const peakMib = run.peak.once / 1024 ** 2;
	run.log(
		`    ${summary.ok} ok, ${summary.failed} failed, ${(summary.bytes / 1024 ** 3).toFixed(1)} GiB in ${(summary.ms / 1000).toFixed(0)} s; peak RSS ${peakMib.toFixed(0)} MiB`,
	);
	return {
		id: run.id,
		title: run.title,
		ours: measure([peakMib], 'MiB', peakMib),
		extra: {
			'downloads complete and byte-exact': `${summary.ok} of ${clients}`,
			failures: summary.failed ? JSON.stringify(summary.errors) : 'none',
			'RSS when idle': treeWords(run.idle),
			'peak RSS of the process tree': treeWords(run.peak),
			'bytes sent': `${(summary.bytes / 1024 ** 3).toFixed(1)} GiB in ${(summary.ms / 1000).toFixed(0)} s`,
		},
		target: 'peak RSS < 200 MiB, all bytes correct',
		met: peakMib < 200 && summary.ok === clients,
	};
}

/** 3: many slow downloads of the large file; peak RSS and byte-exact completion. */
export async function serveSlowClients(context: ServeBenchContext): Promise<Result> {
	const clients = context.slowClients;
	context.log(`3. serve, ${clients} slow clients of the large file`);
	const ours = await startOurs(context);
	const file = path.join(context.fixtures.upstreamDir, context.fixtures.large.refs[0]?.path ?? '');
	const url = `${ours.url}/${context.fixtures.large.refs[0]?.path}`;
	const rate = 64 * 1024;
	context.commands.push(
		`3: \`node --import tsx/esm scripts/bench/slow-clients.ts <url> <file> ${clients} ${context.slowSeconds} ${rate}\` (each client reads 64 KiB/s for ${context.slowSeconds} s, then at full speed, comparing every byte)`,
	);
	const pid = ours.child.pid ?? 0;
	const idle = treeMemory(pid);
	const watch = watchTreeMemory(pid);
	try {
		const summary = await runSlowClients({url, file, clients, slowSeconds: context.slowSeconds, rate});
		return slowClientsResult({
			id: '3',
			title: `Serve ${clients} slow concurrent downloads of the 256 MiB file (peak RSS of all processes)`,
			idle,
			peak: watch.stop(),
			clients,
			summary,
			log: context.log,
		});
	} finally {
		await stop(ours.child);
	}
}

async function latencies(url: string, count: number): Promise<number[]> {
	const agent = new http.Agent({keepAlive: true, maxSockets: 1});
	try {
		for (let warm = 0; warm < 20; warm++) {
			await getOnce(url, agent);
		}

		const times: number[] = [];
		for (let index = 0; index < count; index++) {
			const {status, ms} = await getOnce(url, agent);
			if (status !== 200) {
				throw new Error(`${url} answered ${status}`);
			}

			times.push(ms);
		}

		return times;
	} finally {
		agent.destroy();
	}
}

/** 7: time to first byte after start, and page and API latency, with 3,000 artifacts. */
export async function startupAndBrowse(context: ServeBenchContext): Promise<Result[]> {
	context.log('7. startup and browse');
	context.commands.push(
		`7: \`node ${serveArgs(context, 0).join(' ')}\`, then GET / until it answers; 200 sequential GETs on one keep-alive connection per page`,
	);
	const firstByte: number[] = [];
	const home: number[] = [];
	const api: number[] = [];
	for (let run = 0; run < context.repeat; run++) {
		const port = await freePort();
		const started = process.hrtime.bigint();
		const child = spawn(process.execPath, serveArgs(context, port), {stdio: ['ignore', 'ignore', 'inherit']});
		const url = `http://127.0.0.1:${port}`;
		try {
			for (;;) {
				try {
					const asked = Number(process.hrtime.bigint() - started) / 1e6;
					const {status, firstByteMs} = await getOnce(`${url}/`);
					if (status === 200) {
						// From spawn to the first body byte of the catalogue page.
						firstByte.push(asked + firstByteMs);
						break;
					}
				} catch {
					await new Promise((resolve) => setTimeout(resolve, 2));
				}
			}

			home.push(...(await latencies(`${url}/`, 200)));
			api.push(...(await latencies(`${url}/api/v1/artifacts`, 200)));
		} finally {
			await stop(child);
		}

		context.log(`    run ${run + 1}: first byte after ${firstByte.at(-1)?.toFixed(0)} ms`);
	}

	const stats = (values: number[]) =>
		`p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms`;
	const homeP50 = percentile(home, 50);
	return [
		{
			id: '7a',
			title: 'Start to first byte of `/`, 3,000 artifacts on disk',
			ours: measure(firstByte, 'ms', median(firstByte)),
			target: '< 1 s',
			met: median(firstByte) < 1000,
		},
		{
			id: '7b',
			title: '`/` latency with 3,000 artifacts (median of all requests)',
			ours: measure([homeP50], 'ms', homeP50),
			extra: {'/': stats(home), '/api/v1/artifacts': stats(api)},
			target: '< 100 ms',
			met: homeP50 < 100 && percentile(api, 50) < 100,
		},
	];
}
