import {spawn} from 'node:child_process';
import {readdir, readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {startFakeUpstream} from './helpers/fake-upstream.js';
import {createTestKey} from './helpers/keys.js';
import {cliCommand, runCli, startCli, syncFlags, toArgs} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {type WithUpstream, withUpstream} from './helpers/with-upstream.js';

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline) {
			throw new Error('timed out waiting');
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 25);
		});
	}
}

/** A fake upstream sending two 1 MiB artifacts at `bytesPerSecond` each, and the sync command line for them. */
async function slowSync(
	t: Parameters<typeof withUpstream>[0],
	bytesPerSecond: number,
): Promise<WithUpstream & {args: string[]}> {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
		size: 1024 * 1024,
	});
	for (const ref of setup.upstream.refs) {
		setup.upstream.faults.set(ref.path, {bytesPerSecond});
	}

	const args = [
		'sync',
		'--json',
		...toArgs(
			syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
				versions: '9.1.3',
				platforms: 'linux-x86_64,linux-arm64',
			}),
		),
	];
	return {...setup, args};
}

test('kill -9 during downloads leaves nothing partial in the tree; the next run resumes and finishes', async (t) => {
	const size = 1024 * 1024;
	const {upstream, dir, args} = await slowSync(t, 256 * 1024);

	const {child, result} = startCli(args);
	const partsWithBytes = async () => {
		const parts = (await listFiles(path.join(dir, '.mirror/tmp')).catch(() => [])).filter((file) =>
			file.endsWith('.part'),
		);
		const sizes = await Promise.all(
			parts.map(async (file) => (await stat(path.join(dir, '.mirror/tmp', file))).size),
		);
		return sizes.length === 2 && sizes.every((bytes) => bytes > 64 * 1024);
	};

	await waitFor(partsWithBytes);
	child.kill('SIGKILL');
	const killed = await result;
	t.is(killed.signal, 'SIGKILL');

	// Readers of the tree see no artifact at all: not a partial one, not one without sidecars.
	const visible = (await listFiles(dir)).filter((file) => !file.startsWith('.mirror/'));
	t.deepEqual(
		visible.filter((file) => file.startsWith('downloads/')),
		[],
	);
	// The lock of the dead process is still there, and will be taken over.
	t.truthy(await stat(path.join(dir, '.mirror/sync.lock')));

	for (const ref of upstream.refs) {
		upstream.faults.delete(ref.path);
	}

	upstream.requests.length = 0;
	const rerun = await runCli(args);
	t.is(rerun.code, 0, rerun.stderr);
	const resumed = upstream.bodyRequests();
	t.is(resumed.length, 2);
	for (const request of resumed) {
		t.regex(request.range ?? '', /^bytes=\d+-$/);
		t.is(request.status, 206);
	}

	for (const ref of upstream.refs) {
		for (const file of [ref.path, `${ref.path}.sha512`, `${ref.path}.asc`]) {
			t.deepEqual(await readFile(path.join(dir, file)), upstream.files.get(file), file);
		}
	}

	const summary = rerun.lines.at(-1)?.summary as {published: number; bytes: number};
	// Keys apart (issue 14 item 18).
	t.is(summary.published, 2);
	t.true(summary.bytes < 2 * size, `resumed, so fewer than ${2 * size} bytes: ${summary.bytes}`);
	await t.throwsAsync(stat(path.join(dir, '.mirror/sync.lock')));
});

test('SIGTERM during downloads releases the lock and exits 143; nothing half-published; the next run starts at once', async (t) => {
	const {upstream, dir, args} = await slowSync(t, 128 * 1024);
	const lockPath = path.join(dir, '.mirror/sync.lock');
	const {child, result} = startCli(args);
	await waitFor(async () =>
		(await listFiles(path.join(dir, '.mirror/tmp')).catch(() => [])).some((file) => file.endsWith('.part')),
	);
	t.truthy(await stat(lockPath));
	child.kill('SIGTERM');
	const stopped = await result;
	t.is(stopped.code, 143, stopped.stderr);
	t.regex(stopped.stderr, /interrupted by SIGTERM/);
	await t.throwsAsync(stat(lockPath), undefined, 'the lock is released');
	t.deepEqual(
		(await listFiles(dir)).filter((file) => file.startsWith('downloads/')),
		[],
		'no artifact is published half done',
	);

	for (const ref of upstream.refs) {
		upstream.faults.delete(ref.path);
	}

	const rerun = await runCli(args);
	t.is(rerun.code, 0, rerun.stderr);
});

test('SIGINT during an import releases the lock and exits 130; nothing is published; the next write command cleans its staging', async (t) => {
	const key = await createTestKey();
	const upstream = await startFakeUpstream({key, versions: ['9.1.3'], platforms: ['linux-x86_64']});
	t.teardown(() => upstream.close());
	const source = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	t.is(
		(
			await runCli([
				'sync',
				'--json',
				...toArgs(syncFlags(upstream.url, source, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'})),
			])
		).code,
		0,
	);
	const bundle = path.join(await tempDir(t), 'bundle.tar');
	t.is((await runCli(['export', '--dir', source, '--out', bundle])).code, 0);
	const bytes = await readFile(bundle);

	// The bundle arrives on stdin and stops half way, as from a slow pipe.
	const target = await tempDir(t);
	const child = spawn(
		cliCommand[0] as string,
		[...cliCommand.slice(1), 'import', '--dir', target, '--trusted-key', keyPath, '-'],
		{
			env: {PATH: process.env.PATH, HOME: process.env.HOME},
			stdio: ['pipe', 'pipe', 'pipe'],
		},
	);
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const exited = new Promise<number | null>((resolve) => {
		child.on('close', (code) => resolve(code));
	});
	child.stdin.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
	const lockPath = path.join(target, '.mirror/sync.lock');
	await waitFor(async () => Boolean(await stat(lockPath).catch(() => undefined)));
	await waitFor(async () =>
		(await listFiles(path.join(target, '.mirror/tmp')).catch(() => [])).some((file) =>
			file.startsWith('import-'),
		),
	);
	child.kill('SIGINT');
	t.is(await exited, 130, stderr);
	child.stdin.destroy();
	await t.throwsAsync(stat(lockPath), undefined, 'the lock is released');
	t.deepEqual(
		(await listFiles(target)).filter((file) => !file.startsWith('.mirror/')),
		[],
	);

	const again = await runCli(['import', '--dir', target, '--trusted-key', keyPath, bundle]);
	t.is(again.code, 0, again.stderr);
	t.deepEqual(await readdir(path.join(target, '.mirror/tmp')), []);
});
