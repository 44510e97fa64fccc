/**
`npm test` after type-check and lint: one ava run with everything it needs found
once. The S3 test server (scripts/s3/start-rgw.sh) is started here when nothing
answers, shared by every test file, and stopped at the end only when this run
started it. What was found goes to the tests in MIRROR_TEST_S3 and
MIRROR_TEST_BROWSER; the last lines say loudly which suites could not run. Under
CI=true such suites fail (test/helpers/gate.ts) and so does this run.

Arguments go to ava: `npm test -- test/cli.ts --match '*help*'`. Set MIRROR_TEST_S3
yourself (`unavailable:not today`) to leave the S3 server alone and skip its tests.
*/
import {spawn} from 'node:child_process';
import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {ensureRegistry} from '../test/helpers/oci-registry.js';
import {
	browserPrerequisite,
	decodePrerequisite,
	encodePrerequisite,
	isCi,
	type Prerequisite,
	s3Answers,
	s3Endpoint,
} from '../test/helpers/prerequisites.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const rgwScript = (name: string) => path.join(root, 'scripts', 's3', name);

/** Run a command to its end; resolves with its exit code and the tail of its output. */
function run(
	command: string,
	args: readonly string[],
	options: {env?: NodeJS.ProcessEnv; inherit?: boolean; timeoutMs?: number} = {},
): Promise<{code: number; tail: string}> {
	return new Promise((resolve) => {
		const child = spawn(command, args, {
			cwd: root,
			env: options.env ?? process.env,
			stdio: options.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
		});
		let output = '';
		const keep = (chunk: Buffer) => {
			output = (output + chunk.toString()).slice(-4000);
		};
		child.stdout?.on('data', keep);
		child.stderr?.on('data', keep);
		const timer = options.timeoutMs
			? setTimeout(() => {
					output += `\ntimed out after ${(options.timeoutMs as number) / 1000} s`;
					child.kill('SIGTERM');
				}, options.timeoutMs)
			: undefined;
		// Ctrl-C reaches the child through the terminal; a service manager's SIGTERM is passed on.
		const forward = () => child.kill('SIGTERM');
		process.on('SIGTERM', forward);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			process.off('SIGTERM', forward);
			const lines = output.trim().split('\n');
			resolve({code: code ?? (signal ? 128 : 1), tail: lines.at(-1) ?? ''});
		});
		child.on('error', (error) => {
			output += `\n${error.message}`;
		});
	});
}

/** The S3 server for this run: given by the caller, already running, or started here. */
async function prepareS3(): Promise<{state: Prerequisite; startedHere: boolean; note: string}> {
	const given = decodePrerequisite(process.env.MIRROR_TEST_S3);
	if (given) {
		return {state: given, startedHere: false, note: 'as MIRROR_TEST_S3 says; not probed, not started'};
	}

	if (await s3Answers()) {
		return {state: {ok: true}, startedHere: false, note: `already running at ${s3Endpoint}; left running`};
	}

	process.stderr.write(`no S3 server at ${s3Endpoint}: starting one (scripts/s3/start-rgw.sh)...\n`);
	const started = await run('bash', [rgwScript('start-rgw.sh')], {timeoutMs: 600_000});
	if (started.code === 0 && (await s3Answers())) {
		return {state: {ok: true}, startedHere: true, note: `started by this run at ${s3Endpoint}`};
	}

	// Whatever the script left half-started is this run's own.
	await run('bash', [rgwScript('stop-rgw.sh')]);
	const why =
		started.code === 0 ? `still no answer at ${s3Endpoint}` : started.tail || `exit ${started.code}`;
	return {
		state: {ok: false, reason: `scripts/s3/start-rgw.sh could not start it: ${why}`},
		startedHere: false,
		note: 'could not be started',
	};
}

/** The test files this run covers that import `needle` (all of test/ when no file is named). */
async function suitesUsing(needle: string, avaArgs: readonly string[]): Promise<string[]> {
	const named = avaArgs.filter((arg) => arg.endsWith('.ts')).map((arg) => path.resolve(root, arg));
	const files = (await readdir(path.join(root, 'test')))
		.filter((name) => name.endsWith('.ts'))
		.map((name) => path.join(root, 'test', name))
		.filter((file) => named.length === 0 || named.includes(file));
	const using: string[] = [];
	for (const file of files) {
		if ((await readFile(file, 'utf8')).includes(needle)) {
			using.push(path.relative(root, file));
		}
	}

	return using;
}

// Ctrl-C reaches the children too (the terminal signals the whole group); this
// process stays to clean up: stop an S3 server it started, then exit.
let interrupted = false;
process.on('SIGINT', () => {
	interrupted = true;
});

const avaArgs = process.argv.slice(2);
const ci = isCi();
const s3 = await prepareS3();
if (interrupted) {
	if (s3.startedHere) {
		await run('bash', [rgwScript('stop-rgw.sh')]);
	}

	process.exit(130);
}

const browser = browserPrerequisite();
const registry = await ensureRegistry();
const env = {
	...process.env,
	MIRROR_TEST_S3: encodePrerequisite(s3.state),
	MIRROR_TEST_BROWSER: encodePrerequisite(browser),
};

const ava = await run(
	process.execPath,
	[path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), ...avaArgs],
	{
		env,
		inherit: true,
	},
);

if (s3.startedHere) {
	await run('bash', [rgwScript('stop-rgw.sh')]);
	s3.note += '; stopped';
}

const missing: string[] = [];
for (const [state, needle, what] of [
	[s3.state, 'ensureS3(', 'S3 tests'],
	[browser, 'browserPrerequisite(', 'browser test'],
	[registry, 'ensureRegistry(', 'container registry tests'],
] as const) {
	const files = await suitesUsing(needle, avaArgs);
	if (!state.ok && files.length > 0) {
		missing.push(`THE ${what.toUpperCase()} DID NOT RUN (${files.join(', ')}): ${state.reason}`);
	}
}

const out = process.stderr;
out.write(`\nS3 test server: ${s3.note}\n`);
if (missing.length === 0) {
	out.write('every S3, browser and container registry test of this run could run\n');
} else {
	const rule = '='.repeat(78);
	out.write(`${rule}\n${missing.join('\n')}\n`);
	out.write(
		ci
			? 'CI=true: a run with suites left out is a failure.\n'
			: 'This run is INCOMPLETE: passing it says nothing about them. (Under CI=true it fails.)\n',
	);
	out.write(`${rule}\n`);
}

process.exitCode = ava.code !== 0 ? ava.code : ci && missing.length > 0 ? 1 : 0;
