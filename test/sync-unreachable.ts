import {existsSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import net, {type AddressInfo} from 'node:net';
import path from 'node:path';
import test from 'ava';
import {sync} from '../src/agent/sync.js';
import {loadSyncConfig} from '../src/config/index.js';
import type {SyncEvent} from '../src/mirror/events.js';
import type {Status} from '../src/store/status.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	await new Promise((resolve) => {
		server.close(resolve);
	});
	return port;
}

test('an unreachable upstream fails fast with one line naming the host and what to try, no retries', async (t) => {
	const port = await closedPort();
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const started = Date.now();
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(
			syncFlags(`http://127.0.0.1:${port}`, dir, keyPath, {versions: '9.1.3', 'retry-delay': '1000'}),
		),
	]);
	t.is(result.code, 1, result.stdout + result.stderr);
	t.true(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
	const lines = result.stderr.trim().split('\n');
	t.is(lines.length, 1, result.stderr);
	t.regex(lines[0] ?? '', new RegExp(`^error: cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
	t.regex(lines[0] ?? '', /HTTPS_PROXY/);
	t.regex(lines[0] ?? '', /--upstream/);
	t.regex(lines[0] ?? '', /export/);
	t.notRegex(result.stdout, /retry|error:/);
	t.false(existsSync(path.join(dir, '.mirror', 'sync.lock')));
	t.false((await listFiles(dir)).some((file) => file.startsWith('downloads/')));
	// The run is on record, so that the pages say why nothing arrived.
	const status = JSON.parse(await readFile(path.join(dir, '.mirror', 'status.json'), 'utf8')) as Status;
	t.is(status.lastRun?.result, 'failed');
	t.regex(status.lastRun?.error ?? '', /^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
	// Counted as the files it did not get (the default 5 platforms), so a gauge or a page that
	// reads the count does not say "0 failed" for a run that failed outright.
	t.is(status.lastRun?.counts.failed, 5);
});

test('text output: a retry line names the whole file, and each failure is printed once', async (t) => {
	const longName = 'downloads/beats/elastic-agent/elastic-agent-9.2.0-SNAPSHOT-linux-x86_64.tar.gz';
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64', 'linux-arm64'],
	});
	upstream.faults.set(longName, {statuses: [503, 503, 503]});
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {
				versions: '9.2.0-SNAPSHOT',
				platforms: 'linux-x86_64,linux-arm64',
				retries: '2',
			}),
		),
	]);
	t.is(result.code, 1);
	const retryLines = result.stdout.split('\n').filter((line) => line.startsWith('retry'));
	t.is(retryLines.length, 2, result.stdout);
	for (const line of retryLines) {
		t.true(line.includes(path.posix.basename(longName)), line);
		t.true(line.length <= 120, `${line.length} columns: ${line}`);
	}

	const mentions = result.stdout
		.split('\n')
		.filter((line) => line.includes('HTTP 503') && !line.startsWith('retry'));
	t.is(mentions.length, 1, result.stdout);
});

test("with --upstream and no --versions-api, the upstream mirror's /v1/versions is asked, and the output says so", async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const {'versions-api': _, ...flags} = syncFlags(upstream.url, dir, keyPath, {
		versions: 'latest',
		platforms: 'linux-x86_64',
	});
	const result = await runCli(['sync', '--json', ...toArgs(flags)]);
	t.is(result.code, 0, result.stdout + result.stderr);
	const start = result.lines.find((line) => line.event === 'start');
	t.is(start?.versionsApi, `${upstream.url}/v1/versions`);
	t.true(upstream.requests.some((request) => request.path === 'v1/versions'));
});

test('when the upstream has no /v1/versions, the versions API is asked instead, and the start event says why', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const api = await withUpstream(t, key, {versions: ['9.1.3'], apiVersions: ['9.1.3'], platforms: []});
	upstream.faults.set('v1/versions', {statuses: [404]});
	const config = loadSyncConfig({
		flags: syncFlags(upstream.url, dir, keyPath, {versions: 'latest', platforms: 'linux-x86_64'}) as never,
		env: {},
		cwd: process.cwd(),
	});
	const events: SyncEvent[] = [];
	const summary = await sync(
		{
			...config.options,
			upstreamVersionsApi: `${upstream.url}/v1/versions`,
			versionsApi: `${api.upstream.url}/v1/versions`,
		},
		(event) => events.push(event),
	);
	t.is(summary.result, 'success');
	t.deepEqual(summary.versions, ['9.1.3']);
	const start = events.find((event) => event.type === 'start');
	t.is(start?.type === 'start' ? start.versionsApi : undefined, `${api.upstream.url}/v1/versions`);
	t.regex(start?.type === 'start' ? (start.versionsApiNote ?? '') : '', /not found|404/);
	t.true(api.upstream.requests.some((request) => request.path === 'v1/versions'));
});

test('config: --upstream without --versions-api asks the upstream first; an explicit --versions-api is used alone', (t) => {
	const base = {versions: 'latest', dir: '/tmp/x'};
	const derived = loadSyncConfig({
		flags: {...base, upstream: 'https://mirror.internal'} as never,
		env: {},
		cwd: '/',
	});
	t.is(derived.options.upstreamVersionsApi, 'https://mirror.internal/v1/versions');
	t.is(derived.options.versionsApi, 'https://artifacts-api.elastic.co/v1/versions');
	const explicit = loadSyncConfig({
		flags: {
			...base,
			upstream: 'https://mirror.internal',
			'versions-api': 'https://api.internal/v1/versions',
		} as never,
		env: {},
		cwd: '/',
	});
	t.is(explicit.options.upstreamVersionsApi, undefined);
	const plain = loadSyncConfig({flags: base as never, env: {}, cwd: '/'});
	t.is(plain.options.upstreamVersionsApi, undefined);
});

test('a host name that does not resolve fails at once, naming the host, with versions to resolve too', async (t) => {
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const {'versions-api': _, ...flags} = syncFlags('http://artifacts.mirror.invalid', dir, keyPath, {
		versions: 'latest',
		'retry-delay': '1000',
	});
	const result = await runCli(['sync', '--json', ...toArgs(flags)]);
	t.is(result.code, 1);
	const errors = result.lines.filter((line) => line.event === 'error' || line.event === 'retry');
	t.is(errors.length, 1, result.stdout);
	t.regex(String(errors[0]?.msg), /^cannot reach artifacts\.mirror\.invalid \(ENOTFOUND\): /);
});

test('a proxy that cannot be reached is named as the thing to fix, not the upstream', async (t) => {
	const proxyPort = await closedPort();
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const result = await runCli(
		[
			'sync',
			'--no-json',
			...toArgs(
				syncFlags('http://upstream.example', dir, keyPath, {versions: '9.1.3', 'retry-delay': '1000'}),
			),
		],
		{env: {HTTP_PROXY: `http://127.0.0.1:${proxyPort}`}},
	);
	t.is(result.code, 1, result.stdout + result.stderr);
	const line = result.stderr.trim();
	t.regex(
		line,
		new RegExp(
			`^error: cannot reach the proxy 127\\.0\\.0\\.1:${proxyPort} \\(for upstream\\.example\\) \\(ECONNREFUSED\\): check HTTPS_PROXY/HTTP_PROXY`,
		),
	);
	t.notRegex(line, /set HTTPS_PROXY/);
});
