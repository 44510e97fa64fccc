import {mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {MirrorError} from '../src/errors.js';
import {createHttpClient} from '../src/upstream/client.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags, toArgs} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const artifact = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';

/** A server whose every answer is `respond`'s; its URL. */
async function serveWith(
	t: import('ava').ExecutionContext,
	respond: (response: http.ServerResponse) => void,
): Promise<string> {
	const server = http.createServer((_request, response) => respond(response));
	await new Promise<void>((resolve) => {
		server.listen(0, '127.0.0.1', resolve);
	});
	t.teardown(() => {
		server.closeAllConnections();
		server.close();
	});
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.tar.gz`;
}

/** Write up to 64 MiB of `byte` to `response` as fast as it takes them; `sent()` says how much went. */
function pumpBody(response: http.ServerResponse, byte: number): {sent: () => number} {
	let sent = 0;
	const chunk = Buffer.alloc(64 * 1024, byte);
	const pump = () => {
		while (sent < 64 * 1024 * 1024 && !response.destroyed) {
			sent += chunk.length;
			if (!response.write(chunk)) {
				response.once('drain', pump);
				return;
			}
		}

		response.end();
	};

	pump();
	return {sent: () => sent};
}

test('a body running past its declared size is cut off there: nothing beyond it is written, one-line failure', async (t) => {
	// A resume answered with `bytes 100-199/200` and then a chunked body that never ends.
	let body = {sent: () => 0};
	let finished: Promise<void> = Promise.resolve();
	const serverUrl = await serveWith(t, (response) => {
		finished = new Promise((resolve) => {
			response.on('close', () => resolve());
		});
		response.writeHead(206, {'content-range': 'bytes 100-199/200', etag: '"v1"'});
		body = pumpBody(response, 0x41);
	});

	const dir = await mkdtemp(path.join(os.tmpdir(), 'limits-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const partPath = path.join(dir, 'file.part');
	const metaPath = path.join(dir, 'file.part.json');
	await writeFile(partPath, Buffer.alloc(100, 0x41));
	await writeFile(metaPath, JSON.stringify({url: serverUrl, validator: '"v1"'}));
	const client = createHttpClient({
		timeoutMs: 5000,
		retries: 2,
		retryDelayMs: 1,
		proxy: {},
		userAgent: 'test',
	});
	t.teardown(() => client.close());

	const error = await t.throwsAsync(client.download(serverUrl, {partPath, metaPath}));
	t.is((error as MirrorError).code, 'ERR_UPSTREAM_SIZE');
	t.regex(
		error?.message ?? '',
		/^upstream sent more than the 200 bytes it declared for http:\S+; refusing it$/,
	);
	t.true((await stat(partPath)).size <= 200);
	await finished;
	// Cut off at once: far less than the 64 MiB the upstream meant to send (socket buffers only).
	t.true(body.sent() < 16 * 1024 * 1024, `upstream sent ${body.sent()} bytes`);
	// Not retried: the same upstream would do the same again.
	t.true(error instanceof MirrorError);
});

test('an upstream trickling below --min-speed fails the file as retryable with a clear reason, long before it would finish', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 512 * 1024,
	});
	// 2 KiB/s, in 100-byte sips every 50 ms: never silent, so --timeout never fires.
	upstream.faults.set(artifact, {bytesPerSecond: 2000});
	const started = Date.now();
	const {summary, events} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '9.1.3',
			platforms: 'linux-x86_64',
			retries: '1',
			'min-speed': '20000',
			'min-speed-window': '1.5',
		}),
	);
	t.true(Date.now() - started < 60_000);
	t.is(summary.result, 'failed');
	t.is(summary.failed[0]?.path, artifact);
	t.is(summary.failed[0]?.code, 'ERR_TOO_SLOW');
	t.regex(summary.failed[0]?.reason ?? '', /below the minimum of 19\.5 KiB\/s over 1\.5 s \(--min-speed\)/);
	const retries = events.filter((event) => event.type === 'retry');
	t.is(retries.length, 1);
	t.false((await listFiles(dir)).includes(artifact));
});

test('--min-speed 0 turns the floor off; MIRROR_MIN_SPEED and the config key set it like --timeout', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 8 * 1024,
	});
	upstream.faults.set(artifact, {bytesPerSecond: 4000});
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: '9.1.3',
		platforms: 'linux-x86_64',
		'min-speed-window': '0.5',
	});
	const {summary} = await runSync({...flags, 'min-speed': '0'});
	t.is(summary.result, 'success');

	const bad = await runCli(['sync', '--json', ...toArgs(flags)], {
		env: {MIRROR_MIN_SPEED: 'fast'},
	});
	t.is(bad.code, 2);
	t.regex(bad.stderr, /invalid MIRROR_MIN_SPEED "fast"/);
});

test('a body that declares no size stops at --max-file-size, and one that declares more is refused before its first byte', async (t) => {
	const MiB = 1024 * 1024;
	// Chunked, no Content-Length, no end: only the bound stops it.
	let body = {sent: () => 0};
	const chunked = await serveWith(t, (response) => {
		response.writeHead(200, {'content-type': 'application/octet-stream'});
		body = pumpBody(response, 0x42);
	});
	let declaredBodySent = false;
	const huge = await serveWith(t, (response) => {
		response.writeHead(200, {'content-length': String(16 * 1024 ** 3)});
		response.flushHeaders();
		setTimeout(() => {
			declaredBodySent = response.write(Buffer.alloc(1024)) || true;
		}, 200);
	});

	const dir = await mkdtemp(path.join(os.tmpdir(), 'limits-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const client = createHttpClient({
		timeoutMs: 5000,
		retries: 2,
		retryDelayMs: 1,
		proxy: {},
		userAgent: 'test',
		maxFileSize: MiB,
	});
	t.teardown(() => client.close());

	const partPath = path.join(dir, 'a.part');
	const error = await t.throwsAsync(client.download(chunked, {partPath, metaPath: `${partPath}.json`}));
	t.is((error as MirrorError).code, 'ERR_UPSTREAM_SIZE');
	t.regex(error?.message ?? '', /more than --max-file-size \(1048576 bytes\) .*with no size declared/);
	t.true((await stat(partPath)).size <= MiB);
	t.true(body.sent() < 16 * MiB, `upstream sent ${body.sent()} bytes`);

	const otherPart = path.join(dir, 'b.part');
	const refused = await t.throwsAsync(
		client.download(huge, {partPath: otherPart, metaPath: `${otherPart}.json`}),
	);
	t.is((refused as MirrorError).code, 'ERR_UPSTREAM_SIZE');
	t.regex(refused?.message ?? '', /declares 17179869184 bytes .*more than --max-file-size/);
	t.false(declaredBodySent, 'refused before the body started');
	t.is((await stat(otherPart).catch(() => undefined))?.size ?? 0, 0);
});
