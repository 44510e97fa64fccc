import {spawn} from 'node:child_process';
import {readdir} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {tempDir} from './helpers/temp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsxLoader = import.meta.resolve('tsx/esm');

test('npm run demo interrupted by two quick Ctrl-Cs leaves no temp folder behind', async (t) => {
	// The demo's temp folder goes under TMPDIR: a folder of this test's own, to look in afterwards.
	const tmp = await tempDir(t, 'demo-tmp-');
	const child = spawn(process.execPath, ['--import', tsxLoader, path.join(root, 'scripts', 'demo.ts')], {
		cwd: root,
		env: {PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, PORT: '0'},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	t.teardown(() => child.kill('SIGKILL'));
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
		child.on('close', (code, signal) => resolve({code, signal}));
	});
	const deadline = Date.now() + 100_000;
	while (!output.includes('Ctrl-C to stop')) {
		if (Date.now() > deadline || child.exitCode !== null) {
			t.fail(`the demo did not start:\n${output}`);
			return;
		}

		await delay(100);
	}

	// tsx keeps a cache folder there too.
	const demoFolders = async () =>
		(await readdir(tmp)).filter((name) => name.startsWith('artifact-mirror-demo-'));
	t.is((await demoFolders()).length, 1, 'the demo made its temp folder');
	child.kill('SIGINT');
	await delay(30);
	child.kill('SIGINT');
	const {code, signal} = await exited;
	t.is(signal, null, output);
	t.is(code, 0, output);
	t.deepEqual(await demoFolders(), [], 'the temp folder is gone');
});
