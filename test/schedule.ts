import {existsSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {loadServeConfig} from '../src/config/index.js';
import {UsageError} from '../src/errors.js';
import {redactPublic} from '../src/server/public-text.js';
import {acquireLock} from '../src/store/dir/lock.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {getJson, request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {startCli, syncFlags} from './helpers/run.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

async function until(condition: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await condition())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await delay(100);
	}
}

test('serve --sync-schedule runs sync in-process on the schedule, skips while the lock is held, and shows the next run', async (t) => {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	// The sync options of a scheduled run come from the environment (or config file), as for cron.
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: '9.1.3',
		platforms: 'linux-x86_64',
	});
	const env = {
		MIRROR_UPSTREAM: String(flags.upstream),
		MIRROR_VERSIONS_API: String(flags['versions-api']),
		MIRROR_TRUSTED_KEYS: setup.keyPath,
		MIRROR_VERSIONS: '9.1.3',
		MIRROR_PLATFORMS: 'linux-x86_64',
		MIRROR_RETRY_DELAY: '5',
	};
	const config = loadServeConfig({
		flags: {dir: setup.dir, 'sync-schedule': '*/1 * * * * *'} as never,
		env,
		cwd: process.cwd(),
	});
	t.deepEqual(config.syncSchedule?.options.location, dirLocation(setup.dir));

	// Hold the lock first: scheduled runs must skip, not wait or break it.
	const lock = await acquireLock(layout(setup.dir).lock);
	const server = await withServer(t, setup.dir, {syncSchedule: config.syncSchedule});
	await until(async () => server.schedule?.info().lastRun?.result === 'skipped', 'a skipped run');
	t.deepEqual((await getJson<{versions: string[]}>(server.url, '/v1/versions')).versions, []);
	t.regex(server.schedule?.info().lastRun?.message ?? '', /lock/);
	const page = await request(server.url, '/');
	t.regex(page.text, /Next scheduled sync: <time datetime="[^"]+">/);
	t.regex(page.text, /was skipped/);
	// What holds the lock (pid, host, local path) is for the log, not for the public page and API.
	const skippedStatus = (await request(server.url, '/api/v1/status')).text;
	for (const secret of [`pid ${process.pid}`, os.hostname(), setup.dir, layout(setup.dir).lock]) {
		t.false(page.text.includes(secret), `the page shows ${secret}`);
		t.false(skippedStatus.includes(secret), `/api/v1/status shows ${secret}`);
	}
	t.regex(page.text, /was skipped [^<]*: another sync holds the lock/);
	t.regex(skippedStatus, /"result":"skipped","message":"another sync holds the lock"/);

	await lock.release();
	await until(
		async () => (await getJson<{versions: string[]}>(server.url, '/v1/versions')).versions.includes('9.1.3'),
		'the scheduled sync to publish 9.1.3',
	);
	const file = await request(
		server.url,
		'/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
	);
	t.is(file.status, 200);
	const status = await getJson<{schedule: {expression: string; nextRun: string}}>(
		server.url,
		'/api/v1/status',
	);
	// The manifest (and so /v1/versions) is saved before the run records its status: wait for the record.
	await until(
		async () =>
			(await getJson<{lastRun: {result: string} | null}>(server.url, '/api/v1/status')).lastRun?.result ===
			'success',
		'the scheduled run to record its success',
	);
	t.is(status.schedule.expression, '*/1 * * * * *');
	t.true(Date.parse(status.schedule.nextRun) > Date.now() - 2000);
	const metrics = (await request(server.url, '/metrics')).text;
	const next = Number(/^mirror_next_sync_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
	t.true(Math.abs(next - Date.now() / 1000) < 5);
	t.regex(metrics, /^mirror_last_sync_success 1$/m);
});

test('a bad schedule or a schedule without versions is a usage error', (t) => {
	const load = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
		loadServeConfig({flags: flags as never, env, cwd: process.cwd()});
	t.throws(() => load({'sync-schedule': 'every day'}), {
		instanceOf: UsageError,
		message: /invalid --sync-schedule "every day"/,
	});
	t.throws(() => load({}, {MIRROR_SYNC_SCHEDULE: '61 * * * *'}), {message: /invalid MIRROR_SYNC_SCHEDULE/});
	t.throws(() => load({'sync-schedule': '0 3 * * *'}), {message: /nothing selected/});
	t.is(
		load({'sync-schedule': '0 3 * * *'}, {MIRROR_VERSIONS: 'latest'}).syncSchedule?.expression,
		'0 3 * * *',
	);
});

test('a failed scheduled run is described publicly without local paths or credentials', (t) => {
	const shown = redactPublic(
		'EACCES: permission denied, open /var/lib/mirror/.mirror/status.json (upstream https://user:secret@mirror.example/elastic/)',
	);
	t.false(shown.includes('/var/lib'));
	t.false(shown.includes('secret'));
	t.is(shown, 'EACCES: permission denied, open … (upstream https://***@mirror.example/elastic/)');
});

test('SIGTERM to serve while a scheduled sync runs releases its lock before the process exits', async (t) => {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 1024 * 1024,
	});
	// Slow enough that the scheduled run is still downloading when the server is stopped.
	setup.upstream.faults.set(setup.upstream.refs[0]?.path ?? '', {bytesPerSecond: 64 * 1024});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath);
	const serving = startCli(
		['serve', '--host', '127.0.0.1', '--port', '0', '--dir', setup.dir, '--sync-schedule', '*/1 * * * * *'],
		{
			env: {
				MIRROR_UPSTREAM: String(flags.upstream),
				MIRROR_VERSIONS_API: String(flags['versions-api']),
				MIRROR_TRUSTED_KEYS: setup.keyPath,
				MIRROR_VERSIONS: '9.1.3',
				MIRROR_PLATFORMS: 'linux-x86_64',
			},
		},
	);
	t.teardown(() => {
		serving.child.kill('SIGKILL');
	});
	const lockFile = layout(setup.dir).lock;
	await until(
		async () => existsSync(lockFile) && serving.stdoutSoFar().includes('scheduled sync starting'),
		'the scheduled sync to take the lock',
		30_000,
	);
	serving.child.kill('SIGTERM');
	const stopped = await serving.result;
	t.is(stopped.code, 0, stopped.stderr);
	// Its lease would still run for two minutes: the lock must be gone, not left to expire.
	t.false(existsSync(lockFile), 'the scheduled sync left its lock behind');
	t.false(
		existsSync(path.join(setup.dir, 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz')),
		'nothing half-fetched is published',
	);
});
