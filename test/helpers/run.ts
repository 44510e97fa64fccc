/** Run sync in-process (fast) or the real CLI in a child process (exit codes, signals). */
import {type ChildProcess, spawn} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {sync} from '../../src/agent/sync.js';
import {loadSyncConfig} from '../../src/config/index.js';
import type {Summary, SyncEvent} from '../../src/mirror/events.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliPath = path.join(root, 'src', 'cli', 'index.ts');
const tsxLoader = import.meta.resolve('tsx/esm');

/** The CLI as a command line (node with the tsx loader), for shell pipelines in tests. */
export const cliCommand: readonly string[] = [process.execPath, '--import', tsxLoader, cliPath];

/** Flags for a sync against a fake upstream, with fast retries. */
export function syncFlags(
	upstream: string,
	dir: string,
	keyPath: string,
	extra: Record<string, unknown> = {},
) {
	return {
		dir,
		upstream,
		'versions-api': `${upstream}/v1/versions`,
		'trusted-key': [keyPath],
		'retry-delay': '5',
		timeout: '5',
		...extra,
	};
}

/** Run sync in this process through the same config loader the CLI uses. */
export async function runSync(
	flags: Record<string, unknown>,
	env: Record<string, string | undefined> = {},
): Promise<{summary: Summary; events: SyncEvent[]}> {
	const config = loadSyncConfig({flags: flags as never, env, cwd: process.cwd()});
	const events: SyncEvent[] = [];
	const summary = await sync(config.options, (event) => {
		if (event.type !== 'progress') {
			events.push(event);
		}
	});
	return {summary, events};
}

/** Turn flags into argv. */
export function toArgs(flags: Record<string, unknown>): string[] {
	return Object.entries(flags).flatMap(([name, value]) => {
		if (value === true) {
			return [`--${name}`];
		}

		const values = Array.isArray(value) ? value : [value];
		return values.flatMap((item) => [`--${name}`, String(item)]);
	});
}

export type CliResult = {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	lines: Array<Record<string, unknown>>;
};

/** Start the CLI; `result` settles when it exits. */
export function startCli(
	args: readonly string[],
	options: {env?: Record<string, string | undefined>; cwd?: string} = {},
): {child: ChildProcess; result: Promise<CliResult>; stdoutSoFar: () => string} {
	const child = spawn(process.execPath, ['--import', tsxLoader, cliPath, ...args], {
		cwd: options.cwd ?? root,
		// One serve process unless a test asks for workers (test/serve-workers.ts): the
		// suite starts many servers at once, and a cluster each would triple their start-up.
		env: {PATH: process.env.PATH, HOME: process.env.HOME, MIRROR_WORKERS: '1', ...options.env},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout?.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const result = new Promise<CliResult>((resolve) => {
		child.on('close', (code, signal) => {
			const lines = stdout
				.split('\n')
				.filter((line) => line.startsWith('{'))
				.map((line) => JSON.parse(line) as Record<string, unknown>);
			resolve({code, signal, stdout, stderr, lines});
		});
	});
	return {child, result, stdoutSoFar: () => stdout};
}

/** A child's exit code and its stdout and stderr as one text, in the order they came. */
export function interleavedOutput(child: ChildProcess): Promise<{code: number | null; output: string}> {
	let output = '';
	const append = (chunk: Buffer) => {
		output += chunk.toString();
	};
	child.stdout?.on('data', append);
	child.stderr?.on('data', append);
	return new Promise((resolve) => {
		child.on('close', (code) => resolve({code, output}));
	});
}

/** Run the CLI to completion. */
export function runCli(
	args: readonly string[],
	options: {env?: Record<string, string | undefined>; cwd?: string} = {},
): Promise<CliResult> {
	return startCli(args, options).result;
}
