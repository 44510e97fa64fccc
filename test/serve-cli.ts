import {createHash, randomBytes} from 'node:crypto';
import {copyFile, mkdir, writeFile} from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import {connectOutcome, request} from './helpers/http.js';
import {runCli, startCli} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates, createRsaKey} from './helpers/tls.js';

type Serving = ReturnType<typeof startCli> & {url: string};

async function startServe(t: ExecutionContext, args: string[]): Promise<Serving> {
	const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', ...args]);
	t.teardown(() => {
		cli.child.kill('SIGKILL');
	});
	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		const line = cli
			.stdoutSoFar()
			.split('\n')
			.find((candidate) => candidate.includes('"url"'));
		if (line) {
			return {...cli, url: (JSON.parse(line) as {url: string}).url};
		}

		if (cli.child.exitCode !== null) {
			const result = await cli.result;
			throw new Error(`serve exited ${result.code}: ${result.stderr}`);
		}

		await delay(50);
	}

	throw new Error('serve did not start');
}

async function waitForLog(serving: Serving, text: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!serving.stdoutSoFar().includes(text)) {
		if (Date.now() > deadline) {
			throw new Error(`no log line with "${text}" in:\n${serving.stdoutSoFar()}`);
		}

		await delay(20);
	}
}

/** A big file in the tree, big enough that a paused client holds the response open. */
async function bigFile(dir: string): Promise<{urlPath: string; bytes: Buffer}> {
	const relative = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
	const bytes = randomBytes(48 * 1024 * 1024);
	await mkdir(path.join(dir, path.dirname(relative)), {recursive: true});
	await writeFile(path.join(dir, relative), bytes);
	return {urlPath: `/${relative}`, bytes};
}

/** Start a download and pause it after the first chunk. */
function pausedDownload(url: string): Promise<{response: http.IncomingMessage; chunks: Buffer[]}> {
	return new Promise((resolve, reject) => {
		const req = http.get(url, {agent: false}, (response) => {
			const chunks: Buffer[] = [];
			response.once('data', (chunk: Buffer) => {
				chunks.push(chunk);
				response.pause();
				resolve({response, chunks});
			});
		});
		req.on('error', reject);
	});
}

test('serve logs where it listens and one JSON access line per request', async (t) => {
	const dir = await tempDir(t);
	const serving = await startServe(t, ['--dir', dir]);
	t.regex(serving.url, /^http:\/\/127\.0\.0\.1:\d+$/);
	t.is((await request(serving.url, '/healthz', {headers: {'User-Agent': 'probe/1'}})).status, 200);
	await waitForLog(serving, '"url":"/healthz"');
	const line = serving
		.stdoutSoFar()
		.split('\n')
		.find((candidate) => candidate.includes('"url":"/healthz"'));
	t.like(JSON.parse(line ?? '{}'), {
		level: 'info',
		msg: 'request',
		method: 'GET',
		status: 200,
		bytes: 3,
		ua: 'probe/1',
	});
	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});

test('SIGTERM stops accepting, lets an in-flight download finish whole, then exits 0', async (t) => {
	const dir = await tempDir(t);
	const {urlPath, bytes} = await bigFile(dir);
	const serving = await startServe(t, ['--dir', dir, '--no-access-log']);
	const {response, chunks} = await pausedDownload(`${serving.url}${urlPath}`);
	t.is(response.headers['content-length'], String(bytes.length));

	serving.child.kill('SIGTERM');
	await waitForLog(serving, 'draining');
	const port = new URL(serving.url).port;
	const refused = await connectOutcome(Number(port));
	t.is(refused, 'ECONNREFUSED');
	t.is(serving.child.exitCode, null, 'exited before the download finished');

	response.on('data', (chunk: Buffer) => chunks.push(chunk));
	response.resume();
	await new Promise((resolve) => {
		response.on('end', resolve);
	});
	const body = Buffer.concat(chunks);
	t.is(body.length, bytes.length);
	t.is(createHash('sha512').update(body).digest('hex'), createHash('sha512').update(bytes).digest('hex'));
	const result = await serving.result;
	t.is(result.code, 0);
	t.true(result.stdout.includes('"msg":"stopped"'));
});

test('SIGTERM with a download still running at the drain timeout cuts it and exits 0', async (t) => {
	const dir = await tempDir(t);
	const {urlPath} = await bigFile(dir);
	const serving = await startServe(t, ['--dir', dir, '--drain-timeout', '0.5', '--no-access-log']);
	const {response} = await pausedDownload(`${serving.url}${urlPath}`);
	const aborted = new Promise((resolve) => {
		response.on('aborted', resolve);
		response.on('error', resolve);
		response.on('close', resolve);
	});
	const started = Date.now();
	serving.child.kill('SIGTERM');
	const result = await serving.result;
	t.is(result.code, 0);
	t.true(Date.now() - started < 8000);
	t.true(result.stdout.includes('cut 1 unfinished connections'));
	response.resume();
	await aborted;
	t.false(response.complete);
});

test('HTTPS with --tls-cert/--tls-key; SIGHUP loads a new certificate and keeps the old one when the new is bad', async (t) => {
	const dir = await tempDir(t);
	const first = createCertificates(await tempDir(t, 'ca-a-'));
	const second = createCertificates(await tempDir(t, 'ca-b-'));
	const tlsDir = await tempDir(t, 'tls-');
	const cert = path.join(tlsDir, 'cert.pem');
	const key = path.join(tlsDir, 'key.pem');
	await writeFile(cert, first.cert);
	await writeFile(key, first.key);
	const serving = await startServe(t, ['--dir', dir, '--tls-cert', cert, '--tls-key', key]);
	t.regex(serving.url, /^https:\/\//);
	t.is((await request(serving.url, '/healthz', {ca: first.ca})).status, 200);
	await t.throwsAsync(request(serving.url, '/healthz', {ca: second.ca}));

	await writeFile(cert, second.cert);
	await writeFile(key, second.key);
	serving.child.kill('SIGHUP');
	await waitForLog(serving, 'TLS certificate reloaded');
	t.is((await request(serving.url, '/healthz', {ca: second.ca})).status, 200);
	await t.throwsAsync(request(serving.url, '/healthz', {ca: first.ca}));

	await writeFile(cert, 'not a certificate');
	serving.child.kill('SIGHUP');
	await waitForLog(serving, 'TLS reload failed');
	t.is((await request(serving.url, '/healthz', {ca: second.ca})).status, 200);
	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});

test('a TLS key that does not match the certificate: exit 2 with one line at start; on SIGHUP the old pair keeps serving', async (t) => {
	const dir = await tempDir(t);
	const first = createCertificates(await tempDir(t, 'ca-a-'));
	const second = createCertificates(await tempDir(t, 'ca-b-'));
	const tlsDir = await tempDir(t, 'tls-');
	const cert = path.join(tlsDir, 'cert.pem');
	const key = path.join(tlsDir, 'key.pem');
	// Another pair's key of the same type, and a key of another type (which OpenSSL
	// alone would take beside the certificate, failing every handshake later).
	for (const wrongKey of [second.key, createRsaKey(tlsDir)]) {
		await writeFile(cert, first.cert);
		await writeFile(key, wrongKey);
		// A server that took the pair would listen forever: give it 20 s to exit.
		const cli = startCli(['serve', '--dir', dir, '--port', '0', '--tls-cert', cert, '--tls-key', key]);
		const timer = setTimeout(() => cli.child.kill('SIGKILL'), 20_000);
		const result = await cli.result;
		clearTimeout(timer);
		t.is(result.code, 2, result.stdout);
		t.regex(result.stderr, /TLS key .*key\.pem does not match the certificate .*cert\.pem/);
		t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
	}

	await writeFile(key, first.key);
	const serving = await startServe(t, ['--dir', dir, '--tls-cert', cert, '--tls-key', key]);
	t.is((await request(serving.url, '/healthz', {ca: first.ca})).status, 200);
	await writeFile(cert, second.cert);
	await writeFile(key, createRsaKey(tlsDir));
	serving.child.kill('SIGHUP');
	await waitForLog(serving, 'TLS reload failed');
	t.regex(serving.stdoutSoFar(), /TLS reload failed, keeping the old certificate: TLS key .* does not match/);
	t.is((await request(serving.url, '/healthz', {ca: first.ca})).status, 200);
	serving.child.kill('SIGTERM');
	t.is((await serving.result).code, 0);
});

test('bad serve options exit 2 with one line; a port in use exits 1', async (t) => {
	const dir = await tempDir(t);
	const certs = createCertificates(await tempDir(t, 'ca-'));
	const certFile = path.join(dir, 'cert.pem');
	await writeFile(certFile, certs.cert);
	const keyFile = path.join(dir, 'key.pem');
	await copyFile(certFile, keyFile);
	const cases: Array<[string[], RegExp]> = [
		[['--tls-cert', certFile], /--tls-cert and --tls-key go together/],
		[['--port', '70000'], /invalid --port "70000"/],
		[['--public-url', 'ftp://x'], /invalid --public-url/],
		[['--tls-cert', certFile, '--tls-key', keyFile], /cannot use TLS certificate/],
		[
			['--tls-cert', path.join(dir, 'missing.pem'), '--tls-key', keyFile],
			/TLS certificate .* does not exist/,
		],
	];
	for (const [args, message] of cases) {
		const result = await runCli(['serve', '--dir', dir, '--port', '0', ...args]);
		t.is(result.code, 2, args.join(' '));
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
	}

	const blocker = net.createServer();
	await new Promise<void>((resolve) => {
		blocker.listen(0, '127.0.0.1', resolve);
	});
	t.teardown(() => {
		blocker.close();
	});
	const {port} = blocker.address() as net.AddressInfo;
	const busy = await runCli(['serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port)]);
	t.is(busy.code, 1);
	t.is(busy.stderr.trim(), `error: listening on 127.0.0.1:${port} is already in use`);
});
