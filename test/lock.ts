import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdir, readFile, stat, utimes, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {LockHeldError} from '../src/errors.js';
import {acquireLock} from '../src/sync/lock.js';
import {startFakeUpstream} from './helpers/fake-upstream.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, startCli, syncFlags, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', '']);
	await once(child, 'exit');
	return child.pid as number;
}

test('a second sync on the same mirror exits 3 at once with a clear message', async (t) => {
	const key = await createTestKey();
	const upstream = await startFakeUpstream({
		key,
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 1024 * 1024,
	});
	t.teardown(() => upstream.close());
	// About 4 s: longer than a second CLI takes to start on a loaded machine.
	upstream.faults.set(upstream.refs[0]?.path as string, {bytesPerSecond: 256 * 1024});
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const args = [
		'sync',
		'--json',
		...toArgs(syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'})),
	];

	const first = startCli(args);
	const lockPath = path.join(dir, '.mirror/sync.lock');
	const deadline = Date.now() + 20_000;
	while (!(await stat(lockPath).catch(() => undefined)) && Date.now() < deadline) {
		await new Promise((resolve) => {
			setTimeout(resolve, 25);
		});
	}

	const started = Date.now();
	const second = await runCli(args);
	t.is(second.code, 3);
	const error = second.lines.find((line) => line.event === 'error');
	t.regex(String(error?.msg), new RegExp(`another sync \\(pid ${first.child.pid} on .*\\) holds the lock`));
	t.true(Date.now() - started < 10_000);

	const done = await first.result;
	t.is(done.code, 0, done.stderr);
});

test('a lock left by a dead process on this host is taken over', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	await writeFile(
		lockPath,
		JSON.stringify({
			pid: await deadPid(),
			host: os.hostname(),
			startedAt: '2026-01-01T00:00:00Z',
			token: 'old',
		}),
	);
	const lock = await acquireLock(lockPath);
	t.is(JSON.parse(await readFile(lockPath, 'utf8')).token, lock.holder.token);
	await lock.release();
	await t.throwsAsync(stat(lockPath));
});

test('a live holder keeps the lock; release lets the next one in', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'state', 'sync.lock');
	const lock = await acquireLock(lockPath);
	await t.throwsAsync(acquireLock(lockPath), {instanceOf: LockHeldError});

	// Another live process on this host.
	const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
	t.teardown(() => sleeper.kill());
	await lock.release();
	await writeFile(
		lockPath,
		JSON.stringify({pid: sleeper.pid, host: os.hostname(), startedAt: 'x', token: 'live'}),
	);
	await t.throwsAsync(acquireLock(lockPath), {
		instanceOf: LockHeldError,
		message: new RegExp(`pid ${sleeper.pid}`),
	});
});

test('a lock held on another host is never taken over', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	await writeFile(
		lockPath,
		JSON.stringify({pid: await deadPid(), host: 'other-host', startedAt: 'x', token: 'remote'}),
	);
	await t.throwsAsync(acquireLock(lockPath), {instanceOf: LockHeldError, message: /on other-host/});
});

test('a half-written lock is respected briefly, then treated as abandoned', async (t) => {
	const dir = await tempDir(t);
	await mkdir(dir, {recursive: true});
	const lockPath = path.join(dir, 'sync.lock');
	await writeFile(lockPath, '');
	await t.throwsAsync(acquireLock(lockPath), {instanceOf: LockHeldError});
	const old = new Date(Date.now() - 60_000);
	await utimes(lockPath, old, old);
	const lock = await acquireLock(lockPath);
	await lock.release();
	t.pass();
});
