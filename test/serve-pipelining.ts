/**
Clients that pipeline many GETs of an artifact on one connection and then leave: on
Node 20 a response queued behind another never gets `close` nor its write callbacks,
so everything it holds must be released when its request closes. Checked for the
directory store and for an S3 replica (shared blocks, and streamed from the store).
*/

import {randomBytes} from 'node:crypto';
import {once} from 'node:events';
import {mkdir, readdir, readFile, readlink, writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import type {ServeConfig} from '../src/config/index.js';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {ensureS3, s3Env, s3Server, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 pipelining tests', await ensureS3(), {serial: true});
const MiB = 1024 * 1024;

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

/**
Open descriptors of this process, which runs the server; with `storePort`, not counting
connections to the store kept alive for reuse (nothing unread on them). A store stream
left open holds its connection with the object's bytes unread, and counts.
*/
async function openFds(storePort?: number): Promise<number> {
	const fds = await readdir('/proc/self/fd');
	if (storePort === undefined) {
		return fds.length;
	}

	const remote = `:${storePort.toString(16).toUpperCase().padStart(4, '0')}`;
	const idle = new Set(
		(await readFile('/proc/net/tcp', 'utf8'))
			.split('\n')
			.slice(1)
			.map((line) => line.trim().split(/\s+/))
			.filter(
				(fields) => fields[2]?.endsWith(remote) && fields[3] === '01' && fields[4] === '00000000:00000000',
			)
			.map((fields) => `socket:[${fields[9]}]`),
	);
	const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
	return links.filter((link) => !idle.has(link)).length;
}

/** The server's reading of `names` (NaN when missing): requests in flight (this scrape is one), buffers, pinned blocks. */
async function gauges(url: string, names: readonly string[]): Promise<Record<string, number>> {
	const text = (await request(url, '/metrics')).text;
	return Object.fromEntries(
		names.map((name) => [name, Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)]),
	);
}

const inFlight = 'mirror_http_requests_in_flight';

/** Write `count` pipelined GETs of `target` on one raw connection, read a little, then hang up. */
async function pipelineAndLeave(url: string, target: string, count: number): Promise<void> {
	const {hostname, port} = new URL(url);
	const socket = net.connect(Number(port), hostname);
	await once(socket, 'connect');
	socket.write(`GET ${target} HTTP/1.1\r\nHost: mirror\r\n\r\n`.repeat(count));
	await once(socket, 'data');
	// Let every queued request reach its handler before leaving.
	await new Promise((resolve) => setTimeout(resolve, 300));
	socket.destroy();
}

/** Poll until descriptors and gauges are back to idle; the last reading otherwise. */
async function settle(url: string, idleFds: number, idle: Record<string, number>, storePort?: number) {
	const names = Object.keys(idle);
	let reading = {fds: await openFds(storePort), gauges: await gauges(url, names)};
	for (let turn = 0; turn < 60; turn++) {
		if (reading.fds <= idleFds && names.every((name) => reading.gauges[name] === idle[name])) {
			break;
		}

		await new Promise((resolve) => setTimeout(resolve, 250));
		reading = {fds: await openFds(storePort), gauges: await gauges(url, names)};
	}

	return reading;
}

/**
20 pipelining clients that leave, then: descriptors back to idle, the gauges in `idle` at
their idle values, and downloads still whole.
*/
async function storm(
	t: ExecutionContext,
	served: {url: string; target: string; bytes: Buffer; storePort?: number},
	idle: Record<string, number>,
): Promise<void> {
	const {url, target, bytes, storePort} = served;
	const first = await request(url, target);
	t.true(first.body.equals(bytes));
	const idleFds = await openFds(storePort);
	await Promise.all(Array.from({length: 20}, () => pipelineAndLeave(url, target, 25)));
	const after = await settle(url, idleFds, idle, storePort);
	t.true(after.fds <= idleFds, `open descriptors ${after.fds}, idle ${idleFds}`);
	t.deepEqual(after.gauges, idle);
	const downloads = await Promise.all(Array.from({length: 5}, () => request(url, target)));
	for (const download of downloads) {
		t.is(download.status, 200);
		t.true(download.body.equals(bytes));
	}
}

test.serial(
	'directory store: pipelined GETs from clients that leave release descriptors, buffers and in-flight',
	async (t) => {
		const dir = await tempDir(t);
		const folder = 'downloads/beats/elastic-agent';
		await mkdir(path.join(dir, folder), {recursive: true});
		const bytes = randomBytes(3 * MiB + 4321);
		await writeFile(path.join(dir, folder, 'elastic-agent-9.1.3-linux-x86_64.tar.gz'), bytes);
		const server = await withServer(t, dir);
		const target = `/${folder}/elastic-agent-9.1.3-linux-x86_64.tar.gz`;
		await storm(t, {url: server.url, target, bytes}, {[inFlight]: 1, mirror_stream_buffers_in_use_bytes: 0});
	},
);

/** Pipeline `count` GETs of `target` on one connection and read every response: their bodies in order. */
async function pipelineAndRead(url: string, target: string, count: number): Promise<Buffer[]> {
	const {hostname, port} = new URL(url);
	const socket = net.connect(Number(port), hostname);
	await once(socket, 'connect');
	socket.write(`GET ${target} HTTP/1.1\r\nHost: mirror\r\n\r\n`.repeat(count));
	const bodies: Buffer[] = [];
	let pending = Buffer.alloc(0);
	for await (const chunk of socket) {
		pending = Buffer.concat([pending, chunk as Buffer]);
		for (;;) {
			const headEnd = pending.indexOf('\r\n\r\n');
			const length = Number(/content-length: (\d+)/i.exec(pending.subarray(0, headEnd).toString())?.[1]);
			if (headEnd < 0 || pending.length < headEnd + 4 + length) {
				break;
			}

			bodies.push(pending.subarray(headEnd + 4, headEnd + 4 + length));
			pending = pending.subarray(headEnd + 4 + length);
		}

		if (bodies.length === count) {
			break;
		}
	}

	socket.destroy();
	return bodies;
}

test.serial(
	'directory store: a client that pipelines GETs and reads them all gets every body whole, in order',
	async (t) => {
		const dir = await tempDir(t);
		const folder = 'downloads/beats/elastic-agent';
		await mkdir(path.join(dir, folder), {recursive: true});
		const target = `/${folder}/elastic-agent-9.1.3-linux-x86_64.tar.gz`;
		const bytes = randomBytes(2 * MiB + 99);
		await writeFile(path.join(dir, target), bytes);
		const server = await withServer(t, dir);
		const bodies = await pipelineAndRead(server.url, target, 6);
		t.is(bodies.length, 6);
		for (const body of bodies) {
			t.true(body.equals(bytes));
		}

		const idle = {[inFlight]: 1, mirror_stream_buffers_in_use_bytes: 0};
		t.deepEqual((await settle(server.url, Number.POSITIVE_INFINITY, idle)).gauges, idle);
	},
);

/** One artifact synced into a fresh bucket, a replica serving it with `overrides`, and the store's port. */
async function s3Artifact(t: ExecutionContext, overrides: Partial<ServeConfig>) {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 3 * MiB + 4321,
	});
	const bucket = await withBucket(t);
	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', store: bucket.url, platforms: 'linux-x86_64'}),
		s3Env,
	);
	t.is(summary.result, 'success');
	const relative = upstream.refs[0]?.path ?? '';
	const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
		location: s3Location(bucket.location),
		indexRefreshMs: 100,
		...overrides,
	});
	return {
		url: server.url,
		target: `/${relative}`,
		bytes: upstream.files.get(relative) as Buffer,
		storePort: Number(new URL(s3Server.endpoint).port),
	};
}

s3Test(
	'S3 store, shared blocks: pipelined GETs from clients that leave release blocks, descriptors and in-flight',
	async (t) => {
		await storm(t, await s3Artifact(t, {}), {[inFlight]: 1, mirror_s3_block_cache_pinned_bytes: 0});
	},
);

s3Test(
	'S3 store, streamed from the store: pipelined GETs from clients that leave close store streams and in-flight',
	async (t) => {
		await storm(t, await s3Artifact(t, {s3BlockCacheBytes: 0}), {[inFlight]: 1});
	},
);
