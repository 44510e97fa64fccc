import {execFileSync, spawn} from 'node:child_process';
import {once} from 'node:events';
import {existsSync} from 'node:fs';
import {lstat, mkdir, readdir, readFile, rm, stat, utimes, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {sync} from '../src/agent/sync.js';
import {loadSyncConfig} from '../src/config/index.js';
import {LockHeldError, type MirrorError} from '../src/errors.js';
import {acquireLock} from '../src/store/dir/lock.js';
import {releaseHeldLocks} from '../src/store/held.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {openStore} from '../src/store/open.js';
import {startFakeUpstream} from './helpers/fake-upstream.js';
import {foreignLock} from './helpers/foreign-lock.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, runSync, startCli, syncFlags, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

const sleep = (ms: number) =>
	new Promise((resolve) => {
		setTimeout(resolve, ms);
	});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', '']);
	await once(child, 'exit');
	return child.pid as number;
}

/** A lock file as a sync on another host (a CronJob's pod) leaves it, its lease ending at `expiresAt`. */
function writeRemoteLock(file: string, expiresAt: Date): Promise<void> {
	return writeFile(file, foreignLock(expiresAt));
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

test('a lock from another host whose lease expired is taken over, with a warning; a live lease is not (exit 3)', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	await writeRemoteLock(lockPath, new Date(Date.now() - 1000));
	const heard: string[] = [];
	const lock = await acquireLock(lockPath, {onTakeover: (message) => heard.push(message)});
	t.is(JSON.parse(await readFile(lockPath, 'utf8')).token, lock.holder.token);
	t.is(heard.length, 1);
	t.regex(heard[0] ?? '', /took over the sync lock of pid 4242 on cronjob-pod-1 .*its lease expired at/);
	await lock.release();
	await t.throwsAsync(stat(lockPath));

	// The same through the CLI: a live lease on another host keeps sync out (exit 3) ...
	const key = await createTestKey();
	const upstream = await startFakeUpstream({key, versions: ['9.1.3'], platforms: ['linux-x86_64']});
	t.teardown(() => upstream.close());
	const mirror = await tempDir(t);
	await mkdir(path.join(mirror, '.mirror'));
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const args = [
		'sync',
		'--json',
		...toArgs(syncFlags(upstream.url, mirror, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'})),
	];
	const mirrorLock = path.join(mirror, '.mirror/sync.lock');
	await writeRemoteLock(mirrorLock, new Date(Date.now() + 60_000));
	const held = await runCli(args);
	t.is(held.code, 3, held.stderr);
	t.is(JSON.parse(await readFile(mirrorLock, 'utf8')).token, 'remote');

	// ... and once that lease has run out, the next run takes over, says so, and finishes.
	await writeRemoteLock(mirrorLock, new Date(Date.now() - 1000));
	const taken = await runCli(args);
	t.is(taken.code, 0, taken.stderr);
	t.regex(taken.stdout, /took over the sync lock of pid 4242 on cronjob-pod-1/);
	await t.throwsAsync(stat(mirrorLock));
});

test('the holder renews its lease and keeps startedAt, pid and host', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	const lock = await acquireLock(lockPath, {ttlMs: 60_000, renewEveryMs: 50});
	t.teardown(() => lock.release());
	const first = JSON.parse(await readFile(lockPath, 'utf8'));
	t.is(first.pid, process.pid);
	t.is(first.host, os.hostname());
	t.truthy(Date.parse(first.startedAt));
	const deadline = Date.now() + 20_000;
	let later = first;
	while (later.expiresAt === first.expiresAt && Date.now() < deadline) {
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
		later = JSON.parse(await readFile(lockPath, 'utf8'));
	}

	t.true(Date.parse(later.expiresAt) > Date.parse(first.expiresAt));
	t.true(Date.parse(later.renewedAt) > Date.parse(first.renewedAt));
	t.is(later.startedAt, first.startedAt);
	t.is(later.token, first.token);
	t.is((await stat(lockPath)).mode & 0o777, 0o644);
});

test('release waits for the write under way and refuses the next one', async (t) => {
	const dir = await tempDir(t);
	const lock = await acquireLock(path.join(dir, 'sync.lock'));
	let finish: () => void = () => undefined;
	let finished = false;
	const running = lock.gate.run(
		() =>
			new Promise<void>((resolve) => {
				finish = () => {
					finished = true;
					resolve();
				};
			}),
	);
	const releasing = lock.release();
	await t.throwsAsync(
		lock.gate.run(async () => undefined),
		{message: /stopped/},
	);
	setTimeout(() => finish(), 100);
	await releasing;
	t.true(finished, 'release returned before the running write finished');
	await running;
	await t.throwsAsync(stat(path.join(dir, 'sync.lock')));
});

test('a holder whose lock was taken over writes nothing more (ERR_LOCK_LOST)', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	const lock = await acquireLock(lockPath, {ttlMs: 60_000, renewEveryMs: 50});
	t.teardown(() => lock.release());
	await lock.gate.run(async () => undefined);
	// Another host took it over (as it may once a lease ran out).
	await writeFile(
		lockPath,
		JSON.stringify({
			pid: 1,
			host: 'other-host',
			startedAt: 'x',
			token: 'theirs',
			expiresAt: '2099-01-01T00:00:00Z',
		}),
	);
	const deadline = Date.now() + 20_000;
	let error: unknown;
	while (!error && Date.now() < deadline) {
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
		error = await lock.gate
			.run(async () => undefined)
			.then(
				() => undefined,
				(caught: unknown) => caught,
			);
	}

	t.is((error as {code?: string} | undefined)?.code, 'ERR_LOCK_LOST');
	t.regex(String((error as Error | undefined)?.message), /taken over by another sync/);
	await lock.release();
	t.is(JSON.parse(await readFile(lockPath, 'utf8')).token, 'theirs', 'release leaves their lock alone');
});

test('a lock whose setup fails (a file where .mirror/tmp goes) is released at once, not kept and renewed', async (t) => {
	const mirror = layout(await tempDir(t));
	await mkdir(mirror.state, {recursive: true});
	await writeFile(mirror.tmp, 'not a folder');
	const target = await openStore({
		location: dirLocation(mirror.root),
		lease: {ttlMs: 60_000, renewEveryMs: 50},
	});
	await t.throwsAsync(
		target.lock(() => undefined),
		{code: 'EEXIST'},
	);
	await t.throwsAsync(stat(mirror.lock), undefined, 'the lock file is removed');
	await sleep(500);
	await t.throwsAsync(stat(mirror.lock), undefined, 'and not written again by a renewal');

	// The next run in this process takes the lock (no "another sync in this process").
	await rm(mirror.tmp);
	const lock = await target.lock(() => undefined);
	await lock.release();
	await t.throwsAsync(stat(mirror.lock));
});

test('a holder whose lease ran out because its renewals failed writes nothing more (ERR_LOCK_LOST)', async (t) => {
	const lockPath = path.join(await tempDir(t), 'sync.lock');
	const lock = await acquireLock(lockPath, {ttlMs: 1500, renewEveryMs: 100});
	t.teardown(() => lock.release());
	// Every renewal fails from now on: a folder is where its temp file goes.
	await mkdir(`${lockPath}.${lock.holder.token}.tmp`);
	await sleep(3000);
	const error = await lock.gate
		.run(async () => undefined)
		.then(
			() => undefined,
			(caught: unknown) => caught as Error & {code?: string},
		);
	t.is(error?.code, 'ERR_LOCK_LOST', 'a failed renewal does not extend the lease');
	t.regex(String(error?.message), /expired before it could be renewed/);
});

test('a renewal under way when another holder takes the lock over does not overwrite their lock', async (t) => {
	const lockPath = path.join(await tempDir(t), 'sync.lock');
	const lock = await acquireLock(lockPath, {ttlMs: 60_000, renewEveryMs: 200});
	t.teardown(() => lock.release());
	// The renewal's temp file is a FIFO: writing it waits for a reader, as on a slow network filesystem.
	const temp = `${lockPath}.${lock.holder.token}.tmp`;
	for (let made = false; !made; ) {
		try {
			execFileSync('mkfifo', [temp], {stdio: 'ignore'});
			made = true;
		} catch {
			await sleep(20); // A renewal was writing that file just then.
		}
	}

	await sleep(1000);
	const theirs = {
		pid: 1,
		host: 'other-host',
		startedAt: 'x',
		token: 'theirs',
		expiresAt: '2099-01-01T00:00:00Z',
	};
	await writeFile(lockPath, JSON.stringify(theirs));
	// Reading the FIFO lets the waiting renewal finish its write.
	t.is(JSON.parse(await readFile(temp, 'utf8')).token, lock.holder.token, 'a renewal was under way');
	const deadline = Date.now() + 20_000;
	let error: unknown;
	while (!error && Date.now() < deadline) {
		await sleep(50);
		error = await lock.gate
			.run(async () => undefined)
			.then(
				() => undefined,
				(caught: unknown) => caught,
			);
	}

	const info = await lstat(lockPath);
	if (!info.isFile()) {
		await rm(lockPath);
	}

	t.true(info.isFile(), 'the renewal renamed its temp file over their lock');
	t.deepEqual(JSON.parse(await readFile(lockPath, 'utf8')), theirs);
	t.regex(String((error as Error | undefined)?.message), /taken over by another sync/);
});

test('a sync whose lease runs out mid-download stops writing at its next chunk (ERR_LOCK_LOST), not at its next publish', async (t) => {
	const size = 1024 * 1024;
	const {upstream, dir, keyPath} = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size,
	});
	const artifact = upstream.refs[0]?.path ?? '';
	// 16 s for the whole file: the 1.5 s lease, never renewed here, ends long before.
	upstream.faults.set(artifact, {bytesPerSecond: 64 * 1024});
	const config = loadSyncConfig({
		flags: syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}) as never,
		env: {},
		cwd: process.cwd(),
	});
	const started = Date.now();
	const error = await t.throwsAsync(
		sync({...config.options, lease: {ttlMs: 1500, renewEveryMs: 600_000}}, () => undefined),
	);
	t.is((error as MirrorError).code, 'ERR_LOCK_LOST', error?.message);
	t.true(Date.now() - started < 8000, `stopped after ${Date.now() - started} ms`);
	const tmp = layout(dir).tmp;
	const sizes = async () =>
		Promise.all((await readdir(tmp)).map(async (name) => (await stat(path.join(tmp, name))).size));
	const before = await sizes();
	// Left as they are: once the lock is lost they may be the next holder's, not this run's to remove.
	t.true(before.length > 0, 'the partial download was removed after the lock was lost');
	t.true(
		before.every((bytes) => bytes < size),
		`partial files ${before.join(', ')} of ${size}`,
	);
	await new Promise((resolve) => {
		setTimeout(resolve, 500);
	});
	t.deepEqual(await sizes(), before, 'nothing is written after the stop');
	t.false(existsSync(path.join(dir, artifact)));
});

test('taking over the expired lock of another host discards the partial downloads that holder may still be writing', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 1024 * 1024,
	});
	const artifact = upstream.refs[0]?.path ?? '';
	const mirror = layout(dir);
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'});
	// A first run leaves a partial download of the artifact (cut by a fault), as the stalled holder's would be.
	upstream.faults.set(artifact, {cutAfterBytes: 300 * 1024, cuts: 10});
	await runSync({...flags, retries: '0'}).catch(() => undefined);
	const partials = (await readdir(mirror.tmp)).filter((name) => name.endsWith('.part'));
	t.is(partials.length, 1, 'the first run left a partial download');
	const partial = path.join(mirror.tmp, partials[0] ?? '');
	const {ino} = await stat(partial);

	upstream.faults.delete(artifact);
	await writeRemoteLock(mirror.lock, new Date(Date.now() - 1000));
	const {summary, events} = await runSync(flags);
	t.is(summary.result, 'success');
	t.true(
		events.some((event) => event.type === 'download' && event.resumedFrom === 0),
		'downloaded whole, not resumed from the bytes of the other holder',
	);
	t.notDeepEqual((await stat(partial).catch(() => undefined))?.ino, ino);
	t.true(events.some((event) => event.type === 'warning' && /took over the sync lock/.test(event.message)));
});

// Serial: releaseHeldLocks releases every lock of this process, those of concurrent tests too.
test.serial('a signal that arrives while the lock is being taken releases it once taken', async (t) => {
	const dir = await tempDir(t);
	const lockPath = path.join(dir, 'sync.lock');
	// What SIGTERM does (src/cli/index.ts), while acquireLock has not resolved yet.
	const acquiring = acquireLock(lockPath);
	await releaseHeldLocks();
	const lock = await acquiring;
	t.false(existsSync(lockPath), 'the lock taken during the signal was left behind');
	await t.throwsAsync(
		lock.gate.run(async () => undefined),
		{message: /released/},
	);
});
