/** serve --workers N: the real CLI as a cluster (primary and workers), on port 0. */
import {createHash, randomBytes} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import {connectOutcome, getJson, request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, startCli, syncFlags} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates} from './helpers/tls.js';
import {withUpstream} from './helpers/with-upstream.js';

type Serving = ReturnType<typeof startCli> & {url: string; started: Record<string, unknown>};

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await condition())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		await delay(50);
	}
}

async function startServe(
	t: ExecutionContext,
	args: string[],
	env: Record<string, string> = {},
): Promise<Serving> {
	const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', ...args], {env});
	t.teardown(() => {
		cli.child.kill('SIGKILL');
	});
	let line: string | undefined;
	await until(
		() => {
			if (cli.child.exitCode !== null) {
				throw new Error(`serve exited ${cli.child.exitCode}: ${cli.stdoutSoFar()}`);
			}

			line = cli
				.stdoutSoFar()
				.split('\n')
				.find((candidate) => candidate.includes('"msg":"serving '));
			return line !== undefined;
		},
		'serve to start',
		60_000,
	);
	const started = JSON.parse(line ?? '{}') as Record<string, unknown>;
	return {...cli, url: String(started.url), started};
}

/** The worker processes of the CLI process `pid` (its children). */
function workerPids(pid: number | undefined): number[] {
	const file = `/proc/${pid}/task/${pid}/children`;
	return existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** The value of the sample `series` (name and labels as written) in a metrics text. */
function sample(text: string, series: string): number | undefined {
	const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function logCount(serving: Serving, text: string): number {
	return serving
		.stdoutSoFar()
		.split('\n')
		.filter((line) => line.includes(text)).length;
}

test('two workers share the port: both answer, and /metrics on either port sums over them', async (t) => {
	const dir = await tempDir(t);
	const urlFile = path.join(await tempDir(t, 'url-'), 'url');
	const serving = await startServe(
		t,
		['--dir', dir, '--metrics-address', '127.0.0.1:0', '--url-file', urlFile],
		{MIRROR_WORKERS: '2'},
	);
	t.is(serving.started.workers, 2);
	t.is(logCount(serving, '"msg":"serving '), 1, 'one startup line');
	t.is((await readFile(urlFile, 'utf8')).trim(), serving.url);
	t.is(workerPids(serving.child.pid).length, 2);

	// A new connection for each request: the primary hands connections to the workers in turn.
	const count = 10;
	for (let index = 0; index < count; index++) {
		t.is((await request(serving.url, '/healthz')).status, 200);
	}

	const metricsUrl = String(serving.started.metricsUrl).replace(/\/metrics$/, '');
	t.is((await request(serving.url, '/metrics')).status, 404, '/metrics is on its own address only');
	const text = (await request(metricsUrl, '/metrics')).text;
	const perWorker = [1, 2].map(
		(worker) => sample(text, `mirror_worker_requests_total{worker="${worker}"}`) ?? 0,
	);
	t.true(
		perWorker.every((requests) => requests >= 3),
		`both workers served: ${perWorker}`,
	);
	t.is(
		perWorker.reduce((sum, requests) => sum + requests, 0),
		count + 1,
		'the main port saw these requests and the 404',
	);
	t.is(sample(text, 'mirror_http_requests_total{route="ops",method="GET",status="200"}'), count);
	t.is(sample(text, 'mirror_workers'), 2);
	// Read from the mirror, the same in every worker: shown once, not summed.
	t.regex(text, /^mirror_build_info\{[^}]*\} 1$/m);
	t.is(sample(text, 'mirror_artifacts'), 0);
	// Process metrics stay one series per process.
	for (const worker of ['1', '2', 'primary']) {
		t.true((sample(text, `process_resident_memory_bytes{worker="${worker}"}`) ?? 0) > 0, worker);
	}

	serving.child.kill('SIGTERM');
	const result = await serving.result;
	t.is(result.code, 0, result.stderr);
	t.is(logCount({...serving, stdoutSoFar: () => result.stdout}, '"msg":"stopped"'), 1);
	t.false(existsSync(urlFile));
});

test('--workers 1 runs no cluster; /metrics of one process has no worker labels', async (t) => {
	const dir = await tempDir(t);
	const serving = await startServe(t, ['--dir', dir], {MIRROR_WORKERS: '1'});
	t.is(serving.started.workers, undefined);
	t.deepEqual(workerPids(serving.child.pid), []);
	const text = (await request(serving.url, '/metrics')).text;
	t.false(text.includes('worker='));
	t.false(text.includes('mirror_workers'));
	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});

test('SIGTERM to the primary: no worker accepts, an in-flight download finishes whole, exit 0', async (t) => {
	const dir = await tempDir(t);
	const relative = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
	const bytes = randomBytes(48 * 1024 * 1024);
	await mkdir(path.join(dir, path.dirname(relative)), {recursive: true});
	await writeFile(path.join(dir, relative), bytes);
	const serving = await startServe(t, ['--dir', dir, '--workers', '2', '--no-access-log']);
	const {response, chunks} = await new Promise<{response: http.IncomingMessage; chunks: Buffer[]}>(
		(resolve, reject) => {
			http
				.get(`${serving.url}/${relative}`, {agent: false}, (answer) => {
					answer.once('data', (chunk: Buffer) => {
						answer.pause();
						resolve({response: answer, chunks: [chunk]});
					});
				})
				.on('error', reject);
		},
	);

	serving.child.kill('SIGTERM');
	await until(() => serving.stdoutSoFar().includes('draining'), 'draining');
	t.is(logCount(serving, 'draining'), 1);
	const refused = await connectOutcome(Number(new URL(serving.url).port));
	t.is(refused, 'ECONNREFUSED');
	t.is(serving.child.exitCode, null, 'exited before the download finished');

	response.on('data', (chunk: Buffer) => chunks.push(chunk));
	response.resume();
	await new Promise((resolve) => {
		response.on('end', resolve);
	});
	const body = Buffer.concat(chunks);
	t.is(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
	const result = await serving.result;
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /"msg":"stopped","cut":0/);
});

test('SIGHUP reloads the TLS pair in every worker; bad files keep the old pair everywhere', async (t) => {
	const dir = await tempDir(t);
	const first = createCertificates(await tempDir(t, 'ca-a-'));
	const second = createCertificates(await tempDir(t, 'ca-b-'));
	const tlsDir = await tempDir(t, 'tls-');
	const cert = path.join(tlsDir, 'cert.pem');
	const key = path.join(tlsDir, 'key.pem');
	await writeFile(cert, first.cert);
	await writeFile(key, first.key);
	const serving = await startServe(t, ['--dir', dir, '--workers', '2', '--tls-cert', cert, '--tls-key', key]);
	t.regex(serving.url, /^https:\/\//);
	await writeFile(cert, second.cert);
	await writeFile(key, second.key);
	serving.child.kill('SIGHUP');
	await until(() => serving.stdoutSoFar().includes('TLS certificate reloaded'), 'the reload');
	t.is(logCount(serving, 'TLS certificate reloaded'), 1, 'one line for all workers');
	// Connections go to the workers in turn: four of them reach both.
	for (let index = 0; index < 4; index++) {
		t.is((await request(serving.url, '/healthz', {ca: second.ca})).status, 200);
		await t.throwsAsync(request(serving.url, '/healthz', {ca: first.ca}));
	}

	await writeFile(cert, 'not a certificate');
	serving.child.kill('SIGHUP');
	await until(() => serving.stdoutSoFar().includes('TLS reload failed'), 'the failed reload');
	t.is(logCount(serving, 'TLS reload failed'), 1);
	for (let index = 0; index < 4; index++) {
		t.is((await request(serving.url, '/healthz', {ca: second.ca})).status, 200);
	}

	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});

test('a worker killed with SIGKILL is replaced; workers that then cannot start make the primary give up with one line', async (t) => {
	const dir = await tempDir(t);
	const certs = createCertificates(await tempDir(t, 'ca-'));
	const tlsDir = await tempDir(t, 'tls-');
	const cert = path.join(tlsDir, 'cert.pem');
	const key = path.join(tlsDir, 'key.pem');
	await writeFile(cert, certs.cert);
	await writeFile(key, certs.key);
	const serving = await startServe(t, ['--dir', dir, '--workers', '2', '--tls-cert', cert, '--tls-key', key]);
	const [victim] = workerPids(serving.child.pid);
	process.kill(victim ?? 0, 'SIGKILL');
	await until(() => serving.stdoutSoFar().includes('was killed by SIGKILL; starting another'), 'the restart');
	await until(async () => {
		const text = (await request(serving.url, '/metrics', {ca: certs.ca})).text;
		return sample(text, 'mirror_workers') === 2 && sample(text, 'mirror_worker_restarts_total') === 1;
	}, 'the replacement to listen');
	t.false(workerPids(serving.child.pid).includes(victim ?? 0));
	t.is(workerPids(serving.child.pid).length, 2);

	// Now every new worker fails at start (the key no longer matches): restarting cannot help.
	await writeFile(key, createCertificates(await tempDir(t, 'ca-other-')).key);
	const [next] = workerPids(serving.child.pid);
	process.kill(next ?? 0, 'SIGKILL');
	const result = await serving.result;
	t.is(result.code, 1);
	t.regex(
		result.stderr,
		/^error: workers keep exiting before they listen \(5 in a row; the last exited with code 2\); giving up$/m,
	);
	t.is(result.stderr.split('\n').filter((line) => line.includes('giving up')).length, 1);
});

test('with two workers, a port in use and a bad TLS pair are still one line, exit 1 and 2', async (t) => {
	const dir = await tempDir(t);
	const blocker = net.createServer();
	await new Promise<void>((resolve) => {
		blocker.listen(0, '127.0.0.1', resolve);
	});
	t.teardown(() => {
		blocker.close();
	});
	const {port} = blocker.address() as net.AddressInfo;
	const busy = await runCli([
		'serve',
		'--dir',
		dir,
		'--workers',
		'2',
		'--host',
		'127.0.0.1',
		'--port',
		String(port),
	]);
	t.is(busy.code, 1);
	t.is(busy.stderr.trim(), `error: listening on 127.0.0.1:${port} is already in use`);

	const first = createCertificates(await tempDir(t, 'ca-a-'));
	const second = createCertificates(await tempDir(t, 'ca-b-'));
	const tlsDir = await tempDir(t, 'tls-');
	await writeFile(path.join(tlsDir, 'cert.pem'), first.cert);
	await writeFile(path.join(tlsDir, 'key.pem'), second.key);
	const badTls = await runCli([
		'serve',
		'--dir',
		dir,
		'--workers',
		'2',
		'--port',
		'0',
		'--tls-cert',
		path.join(tlsDir, 'cert.pem'),
		'--tls-key',
		path.join(tlsDir, 'key.pem'),
	]);
	t.is(badTls.code, 2);
	t.regex(badTls.stderr, /^error: TLS key .*key\.pem does not match the certificate .*cert\.pem\n$/);
});

test('--sync-schedule with two workers runs once per tick, in the primary, and every worker shows its runs', async (t) => {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath);
	const serving = await startServe(
		t,
		['--dir', setup.dir, '--workers', '2', '--sync-schedule', '*/1 * * * * *'],
		{
			MIRROR_UPSTREAM: String(flags.upstream),
			MIRROR_VERSIONS_API: String(flags['versions-api']),
			MIRROR_TRUSTED_KEYS: setup.keyPath,
			MIRROR_VERSIONS: '9.1.3',
			MIRROR_PLATFORMS: 'linux-x86_64',
		},
	);
	const since = Date.now();
	await until(() => logCount(serving, 'scheduled sync success') >= 3, 'three scheduled runs', 60_000);
	const seconds = (Date.now() - since) / 1000;
	const starts = logCount(serving, 'scheduled sync starting');
	// Run N times, the runs would find each other's lock and skip.
	t.is(logCount(serving, 'scheduled sync skipped'), 0, serving.stdoutSoFar());
	t.true(starts <= Math.ceil(seconds) + 1, `${starts} runs in ${seconds} s`);
	for (let index = 0; index < 4; index++) {
		const {schedule} = await getJson<{
			schedule: {expression: string; nextRun: string | null; lastRun: {result: string} | null};
		}>(serving.url, '/api/v1/status');
		t.is(schedule.expression, '*/1 * * * * *');
		t.is(schedule.lastRun?.result, 'success', 'the primary told this worker how its run went');
		t.true(Date.parse(schedule.nextRun ?? '') > Date.now() - 2000);
	}

	t.true((await getJson<{versions: string[]}>(serving.url, '/v1/versions')).versions.includes('9.1.3'));
	const page = await request(serving.url, '/');
	t.regex(page.text, /Next scheduled sync: <time datetime="[^"]+">/);
	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});
