import {once} from 'node:events';
import {rm, writeFile} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {loadServeConfig} from '../src/config/index.js';
import {UsageError} from '../src/errors.js';
import {layout} from '../src/store/layout.js';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {runSync, startCli, syncFlags} from './helpers/run.js';
import type {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

const tar = '/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';

/** A mirror holding 9.1.3 for linux-x86_64, synced from a fake upstream. */
async function syncedMirror(t: Parameters<typeof tempDir>[0]): Promise<string> {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
	);
	if (summary.result !== 'success') {
		throw new Error('setup sync failed');
	}

	return setup.dir;
}

async function freePort(): Promise<number> {
	const server = net.createServer().listen(0, '127.0.0.1');
	await once(server, 'listening');
	const {port} = server.address() as net.AddressInfo;
	server.close();
	await once(server, 'close');
	return port;
}

function value(metrics: string, series: string): number | undefined {
	const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('metrics: standard process names, build info, request durations by route, the last run, lock age, bounded agent versions, and a separate metrics address', async (t) => {
	const dir = await syncedMirror(t);
	const mirror = layout(dir);
	// The last run as sync records it (the format is the status contract), with failures.
	await writeFile(
		mirror.status,
		JSON.stringify({
			lastRun: {
				startedAt: '2026-11-20T03:00:00.000Z',
				finishedAt: '2026-11-20T03:02:05.500Z',
				result: 'failed',
				counts: {published: 1, present: 2, notPublished: 0, failed: 3, bytes: 123_456},
			},
		}),
	);
	// A sync holds the lock since two minutes ago (the lock file's own format).
	const startedAt = new Date(Date.now() - 120_000).toISOString();
	await writeFile(mirror.lock, JSON.stringify({pid: 999_999, host: 'elsewhere', startedAt, token: 'x'}));

	const server = await withServer(t, dir, {metricsAddress: {host: '127.0.0.1', port: 0}});
	t.truthy(server.metricsUrl);
	t.is((await request(server.url, '/metrics')).status, 404, '/metrics is not on the main port');
	t.false((await request(server.url, '/')).text.includes('metrics'), 'the footer does not link it either');

	const agent = (version: string) => ({headers: {'User-Agent': `Beat elastic-agent v${version}`}});
	await request(server.url, tar, agent('9.1.3'));
	await request(server.url, tar, agent('8.19.0'));
	await request(server.url, tar, agent('1.2.3-made.up'));
	await request(server.url, tar, {headers: {'User-Agent': 'curl/8'}});
	await request(server.url, '/api/v1/status');

	const metrics = (await request(String(server.metricsUrl), '/metrics')).text;
	t.true((value(metrics, 'process_resident_memory_bytes') ?? 0) > 0);
	t.true(metrics.includes('\nnodejs_eventloop_lag_seconds '));
	t.false(metrics.includes('mirror_process_'));
	t.false(metrics.includes('mirror_nodejs_'));
	t.regex(metrics, /^mirror_build_info\{version="0\.1\.0",node_version="v\d+\.\d+\.\d+"\} 1$/m);
	t.is(value(metrics, 'mirror_http_request_duration_seconds_count{route="artifact",method="GET"}'), 4);
	t.is(value(metrics, 'mirror_http_request_duration_seconds_count{route="api",method="GET"}'), 1);
	t.regex(
		metrics,
		/^mirror_http_request_duration_seconds_bucket\{le="0\.005",route="artifact",method="GET"\} \d+$/m,
	);
	t.is(value(metrics, 'mirror_last_sync_failed_files'), 3);
	t.is(value(metrics, 'mirror_last_sync_downloaded_bytes'), 123_456);
	t.is(value(metrics, 'mirror_last_sync_duration_seconds'), 125.5);
	const lockAge = value(metrics, 'mirror_sync_lock_age_seconds') ?? 0;
	t.true(lockAge >= 119 && lockAge < 300, `lock age ${lockAge}`);
	t.is(value(metrics, 'mirror_agent_downloads_total{agent_version="9.1.3"}'), 1);
	t.is(value(metrics, 'mirror_agent_downloads_total{agent_version="other"}'), 2);
	t.is(value(metrics, 'mirror_agent_downloads_total{agent_version="none"}'), 1);
	t.false(metrics.includes('8.19.0'));
	t.false(metrics.includes('made.up'));

	await rm(mirror.lock);
	const after = (await request(String(server.metricsUrl), '/metrics')).text;
	t.is(value(after, 'mirror_sync_lock_age_seconds'), 0);
	t.is((await request(String(server.metricsUrl), '/')).status, 404);
});

test('serve --log-format ecs writes ECS lines; --log-level warn leaves out the access log', async (t) => {
	const dir = await syncedMirror(t);
	const start = async (args: string[]) => {
		// A port chosen here: at --log-level warn the line naming the address is not logged.
		const port = await freePort();
		const cli = startCli(['serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port), ...args]);
		t.teardown(() => {
			cli.child.kill('SIGKILL');
		});
		const url = `http://127.0.0.1:${port}`;
		const deadline = Date.now() + 30_000;
		for (;;) {
			if ((await request(url, '/healthz').catch(() => undefined))?.status === 200) {
				return {...cli, url};
			}

			if (Date.now() > deadline || cli.child.exitCode !== null) {
				cli.child.kill('SIGKILL');
				throw new Error(`serve did not start: ${cli.stdoutSoFar()}`);
			}

			await delay(50);
		}
	};

	const ecs = await start(['--log-format', 'ecs']);
	await request(ecs.url, tar, {headers: {'User-Agent': 'Beat elastic-agent v9.1.3'}});
	await request(ecs.url, '/nope');
	await delay(300);
	ecs.child.kill('SIGTERM');
	const result = await ecs.result;
	t.true(result.lines.length >= 3, result.stdout);
	for (const line of result.lines) {
		t.is(typeof line['@timestamp'], 'string');
		t.is(typeof line['log.level'], 'string');
		t.is(typeof line['ecs.version'], 'string');
		t.is(typeof line.message, 'string');
		// ECS maps `url` and `event` as objects: strings there are rejected by an Elastic pipeline.
		t.not(typeof line.url, 'string', JSON.stringify(line));
		t.not(typeof line.event, 'string', JSON.stringify(line));
		t.false('msg' in line);
	}

	const access = result.lines.find((line) => line['url.path'] === tar);
	t.truthy(access, result.stdout);
	t.is(access?.['http.request.method'], 'GET');
	t.is(access?.['http.response.status_code'], 200);
	t.is(access?.['http.response.body.bytes'], 20 * 1024);
	t.is(access?.['user_agent.original'], 'Beat elastic-agent v9.1.3');
	t.is(typeof access?.['event.duration'], 'number');
	t.is(access?.['client.ip'], '127.0.0.1');

	const quiet = await start(['--log-level', 'warn']);
	await request(quiet.url, tar);
	await delay(300);
	quiet.child.kill('SIGTERM');
	const quietResult = await quiet.result;
	t.false(quietResult.stdout.includes('"msg":"request"'), quietResult.stdout);
	t.false(quietResult.stdout.includes('"level":"info"'), quietResult.stdout);
});

test('log and metrics options are checked', (t) => {
	const load = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
		loadServeConfig({flags: flags as never, env, cwd: os.tmpdir()});
	t.is(load({'log-format': 'ecs'}).logFormat, 'ecs');
	t.is(load({}).logFormat, 'json');
	t.is(load({}, {MIRROR_LOG_LEVEL: 'debug'}).logLevel, 'debug');
	t.deepEqual(load({'metrics-address': '127.0.0.1:9464'}).metricsAddress, {host: '127.0.0.1', port: 9464});
	t.deepEqual(load({'metrics-address': ':9464'}).metricsAddress, {host: '0.0.0.0', port: 9464});
	t.throws(() => load({'log-format': 'xml'}), {
		instanceOf: UsageError,
		message: /invalid --log-format "xml": expected json or ecs/,
	});
	t.throws(() => load({'log-level': 'loud'}), {
		instanceOf: UsageError,
		message: /invalid --log-level "loud"/,
	});
	t.throws(() => load({'metrics-address': 'nope'}), {
		instanceOf: UsageError,
		message: /invalid --metrics-address "nope"/,
	});
});

test('mirror_agent_downloads_total never goes down when the mirror comes to hold a version it counted as other', async (t) => {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.2', '9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const syncVersion = async (version: string) => {
		const {summary} = await runSync(
			syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {versions: version, platforms: 'linux-x86_64'}),
		);
		t.is(summary.result, 'success');
	};

	await syncVersion('9.1.3');
	const server = await withServer(t, setup.dir);
	const agent = {headers: {'User-Agent': 'Beat elastic-agent v9.1.2'}};
	t.is((await request(server.url, tar, agent)).status, 200);
	const scrape = async () => (await request(server.url, '/metrics')).text;
	t.is(value(await scrape(), 'mirror_agent_downloads_total{agent_version="other"}'), 1);

	await syncVersion('9.1.2');
	for (let i = 0; i < 100 && !(await request(server.url, '/v1/versions')).text.includes('9.1.2'); i++) {
		await delay(100);
	}

	// The download counted before 9.1.2 arrived stays where it was counted.
	const later = await scrape();
	t.is(value(later, 'mirror_agent_downloads_total{agent_version="other"}'), 1);
	t.is(value(later, 'mirror_agent_downloads_total{agent_version="9.1.2"}'), undefined);
	t.is((await request(server.url, tar, agent)).status, 200);
	t.is(value(await scrape(), 'mirror_agent_downloads_total{agent_version="9.1.2"}'), 1);
	t.is(value(await scrape(), 'mirror_agent_downloads_total{agent_version="other"}'), 1);
});
