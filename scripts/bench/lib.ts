/** Shared pieces of the benchmark suite: tools, processes, timing and statistics. */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {once} from 'node:events';
import {existsSync, readFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';

/** A command the suite needs, with how to get it on Debian. */
export type Tool = {readonly name: string; readonly why: string; readonly debian: string};

export const tools: readonly Tool[] = [
	{name: 'nginx', why: 'the comparison server and the local upstream', debian: 'nginx-light'},
	{name: 'wrk', why: 'HTTP load for the serve benchmarks', debian: 'wrk'},
	{name: 'curl', why: 'the shell pipeline downloads', debian: 'curl'},
	{name: 'gpgv', why: 'the shell pipeline signature check', debian: 'gpgv'},
	{name: 'sha512sum', why: 'the shell pipeline checksum', debian: 'coreutils'},
	{name: 'xargs', why: 'the shell pipeline parallelism', debian: 'findutils'},
];

/** The absolute path of a command on PATH, or undefined. */
export function which(name: string): string | undefined {
	for (const dir of (process.env.PATH ?? '').split(':')) {
		try {
			const candidate = `${dir}/${name}`;
			execFileSync('test', ['-x', candidate]);
			return candidate;
		} catch {
			// not here
		}
	}

	return undefined;
}

/** The tools that are missing, so the run can name them all at once. */
export function missingTools(): Tool[] {
	return tools.filter((tool) => !which(tool.name));
}

/** First line a command prints about its version. */
export function versionOf(command: string, args: string[]): string {
	try {
		const output = execFileSync(command, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
		return output.split('\n')[0]?.trim() ?? '';
	} catch (error) {
		const {stdout, stderr} = error as {stdout?: string; stderr?: string};
		return `${stdout ?? ''}${stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
	}
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const {port} = server.address() as net.AddressInfo;
	server.close();
	await once(server, 'close');
	return port;
}

/** Median of the numbers. */
export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[rank] ?? 0;
}

/** Run a command to completion; resolves with its wall time in ms, rejects on a non-zero exit. */
export async function timed(
	command: string,
	args: string[],
	options: {cwd?: string; env?: NodeJS.ProcessEnv} = {},
): Promise<{ms: number; stdout: string; stderr: string}> {
	const started = process.hrtime.bigint();
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: options.env ?? process.env,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const [code] = (await once(child, 'close')) as [number | null];
	const ms = Number(process.hrtime.bigint() - started) / 1e6;
	if (code !== 0) {
		throw new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000)}`);
	}

	return {ms, stdout, stderr};
}

/** A command's wall time, and its CPU seconds and peak RSS when /usr/bin/time is there. */
export type Run = {ms: number; cpu?: number; rssMiB?: number; stdout: string};

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** `timed` under GNU time: the same wall time, plus user+sys CPU and the peak RSS of the command. */
export async function timedWithUsage(
	command: string,
	args: string[],
	options: {cwd?: string; env?: NodeJS.ProcessEnv} = {},
): Promise<Run> {
	if (!gnuTime) {
		const {ms, stdout} = await timed(command, args, options);
		return {ms, stdout};
	}

	const {ms, stdout, stderr} = await timed(gnuTime, ['-f', 'usage %U %S %M', command, ...args], options);
	const usage = /usage ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr);
	return {
		ms,
		stdout,
		cpu: usage ? Number(usage[1]) + Number(usage[2]) : undefined,
		rssMiB: usage ? Number(usage[3]) / 1024 : undefined,
	};
}

/** The CPU and peak RSS of some runs, in words for a result's extra column. */
export function usageText(runs: readonly Run[]): string {
	const cpu = runs.flatMap((run) => (run.cpu === undefined ? [] : [run.cpu]));
	const rss = runs.flatMap((run) => (run.rssMiB === undefined ? [] : [run.rssMiB]));
	if (cpu.length === 0) {
		return 'CPU and RSS not measured (no /usr/bin/time)';
	}

	return `CPU (user+sys) median ${median(cpu).toFixed(2)} s [${cpu.map((value) => value.toFixed(2)).join(', ')}], peak RSS median ${median(rss).toFixed(0)} MiB [${rss.map((value) => value.toFixed(0)).join(', ')}]`;
}

/** GET a URL once; resolves with the status and the time to the first body byte. */
export function getOnce(
	url: string,
	agent?: http.Agent,
): Promise<{status: number; firstByteMs: number; ms: number}> {
	const started = process.hrtime.bigint();
	return new Promise((resolve, reject) => {
		const request = http.get(url, {agent: agent ?? false}, (response) => {
			let firstByteMs = -1;
			response.on('data', () => {
				if (firstByteMs < 0) {
					firstByteMs = Number(process.hrtime.bigint() - started) / 1e6;
				}
			});
			response.on('end', () => {
				const ms = Number(process.hrtime.bigint() - started) / 1e6;
				resolve({status: response.statusCode ?? 0, firstByteMs: firstByteMs < 0 ? ms : firstByteMs, ms});
			});
			response.on('error', reject);
		});
		request.on('error', reject);
	});
}

/** Wait until a GET of `url` answers 200; throws after `timeoutMs`. */
export async function waitFor(url: string, timeoutMs = 20_000): Promise<number> {
	const started = Date.now();
	for (;;) {
		try {
			const {status} = await getOnce(url);
			if (status === 200) {
				return Date.now() - started;
			}
		} catch {
			// not listening yet
		}

		if (Date.now() - started > timeoutMs) {
			throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
		}

		await sleep(5);
	}
}

/** Stop a child and wait for it. */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		return;
	}

	const closed = once(child, 'exit');
	child.kill(signal);
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	await closed;
	clearTimeout(timer);
}

/** Resident and peak resident memory of a process, in bytes, from /proc. */
export function memoryOf(pid: number): {rss: number; peak: number} {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const field = (name: string) =>
		Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
	return {rss: field('VmRSS'), peak: field('VmHWM')};
}
