/**
Artifact downloads from an S3 replica's shared blocks, against radosgw: each block is
read from the store once however many download it, ranges across block edges are
exact, a full budget makes downloads stream from the store instead, and an object
replaced in the store mid-download cuts that download short instead of mixing versions.
*/

import {randomBytes} from 'node:crypto';
import http from 'node:http';
import {PutObjectCommand} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import type {ServeConfig} from '../src/config/index.js';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 block tests', await ensureS3(), {serial: true});
const MiB = 1024 * 1024;

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

/** One artifact of `size` bytes synced into a fresh bucket, and a replica serving it. */
async function servedArtifact(t: ExecutionContext, size: number, overrides: Partial<ServeConfig> = {}) {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size,
	});
	const bucket = await withBucket(t);
	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', store: bucket.url, platforms: 'linux-x86_64'}),
		s3Env,
	);
	t.is(summary.result, 'success');
	const [ref] = upstream.refs;
	const relative = ref?.path ?? '';
	const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
		location: s3Location(bucket.location),
		indexRefreshMs: 100,
		...overrides,
	});
	return {bucket, relative, bytes: upstream.files.get(relative) as Buffer, url: server.url};
}

/** The block cache's metrics of the replica at `url`. */
async function blockMetrics(url: string) {
	const text = (await request(url, '/metrics')).text;
	const value = (name: string) =>
		Number(new RegExp(`^mirror_s3_block_cache_${name} (\\S+)$`, 'm').exec(text)?.[1]);
	return {
		bytes: value('bytes'),
		hits: value('hits_total'),
		fetches: value('fetches_total'),
		refused: value('refused_total'),
	};
}

/** Poll `read` until two answers 300 ms apart agree. */
async function settled<T>(read: () => Promise<T>): Promise<T> {
	let last = await read();
	for (let turn = 0; turn < 50; turn++) {
		await new Promise((resolve) => setTimeout(resolve, 300));
		const now = await read();
		if (JSON.stringify(now) === JSON.stringify(last)) {
			return now;
		}

		last = now;
	}

	throw new Error('never settled');
}

/**
A download that reads nothing until `resume`: the replica's writes stall once the
kernel's buffers are full, and the block being written stays pinned.
*/
function stalledDownload(url: string, relative: string) {
	const chunks: Buffer[] = [];
	let response: http.IncomingMessage | undefined;
	const started = new Promise<http.IncomingMessage>((resolve, reject) => {
		const req = http.get(`${url}/${relative}`, {agent: false}, (res) => {
			response = res;
			res.pause();
			resolve(res);
		});
		req.on('error', reject);
	});
	return {
		started,
		/** Read to the end (or to the cut): every byte received, and whether the body was whole. */
		async resume(): Promise<{body: Buffer; complete: boolean}> {
			const res = await started;
			return new Promise((resolve) => {
				res.on('data', (chunk: Buffer) => chunks.push(chunk));
				res.on('error', () => undefined);
				res.on('close', () => resolve({body: Buffer.concat(chunks), complete: res.complete}));
				res.resume();
			});
		},
		destroy() {
			response?.destroy();
		},
	};
}

s3Test(
	'concurrent downloads and ranges across block edges: byte-exact, each block read from the store once',
	async (t) => {
		const {relative, bytes, url} = await servedArtifact(t, 2 * MiB + 500_000);
		const downloads = await Promise.all(Array.from({length: 20}, () => request(url, `/${relative}`)));
		for (const download of downloads) {
			t.is(download.status, 200);
			t.is(Number(download.headers['content-length']), bytes.length);
			t.true(download.body.equals(bytes));
		}

		const ranges: Array<[string, number, number]> = [
			[`bytes=${MiB - 10}-${MiB + 9}`, MiB - 10, MiB + 10],
			[`bytes=${2 * MiB - 1}-${2 * MiB}`, 2 * MiB - 1, 2 * MiB + 1],
			[`bytes=${MiB}-`, MiB, bytes.length],
			['bytes=-100', bytes.length - 100, bytes.length],
			['bytes=0-0', 0, 1],
		];
		for (const [range, start, end] of ranges) {
			const part = await request(url, `/${relative}`, {headers: {Range: range}});
			t.is(part.status, 206, range);
			t.is(part.headers['content-range'], `bytes ${start}-${end - 1}/${bytes.length}`, range);
			t.true(part.body.equals(bytes.subarray(start, end)), range);
		}

		const whole = await request(url, `/${relative}`, {method: 'HEAD'});
		t.is(whole.headers['content-length'], String(bytes.length));
		const notModified = await request(url, `/${relative}`, {
			headers: {'If-None-Match': String(whole.headers.etag)},
		});
		t.is(notModified.status, 304);

		const metrics = await blockMetrics(url);
		t.is(metrics.fetches, 3, 'three blocks, each read once for 20 downloads and 5 ranges');
		t.is(metrics.refused, 0);
		t.true(metrics.hits >= 20 * 3 - 3, `${metrics.hits} hits`);
		t.is(metrics.bytes, bytes.length, 'the whole artifact is in memory once');
	},
);

s3Test('a budget smaller than a block: every download streams from the store, byte-exact', async (t) => {
	const {relative, bytes, url} = await servedArtifact(t, MiB + 12_345, {s3BlockCacheBytes: 64 * 1024});
	const downloads = await Promise.all(Array.from({length: 5}, () => request(url, `/${relative}`)));
	for (const download of downloads) {
		t.true(download.body.equals(bytes));
	}

	const part = await request(url, `/${relative}`, {headers: {Range: `bytes=${MiB - 5}-${MiB + 4}`}});
	t.true(part.body.equals(bytes.subarray(MiB - 5, MiB + 5)));
	const metrics = await blockMetrics(url);
	t.is(metrics.fetches, 0);
	t.is(metrics.refused, 6);
	t.is(metrics.bytes, 0);
});

s3Test(
	'a stalled download pins one block; others stream past it from the store, and it is let go when the client leaves',
	async (t) => {
		const {relative, bytes, url} = await servedArtifact(t, 16 * MiB, {s3BlockCacheBytes: MiB});
		const stalled = stalledDownload(url, relative);
		await stalled.started;
		const pinned = await settled(() => blockMetrics(url));
		const block = pinned.fetches - 1;
		t.true(block < 15, `the stalled download holds block ${block}, not the last one`);
		t.is(pinned.bytes, MiB);

		// Starts in the pinned block (shared), then finds no room for the next: the rest
		// comes straight from the store.
		const fromPinned = await request(url, `/${relative}`, {headers: {Range: `bytes=${block * MiB + 7}-`}});
		t.is(fromPinned.status, 206);
		t.true(fromPinned.body.equals(bytes.subarray(block * MiB + 7)));
		// Starts elsewhere: no room for its first block either.
		const whole = await request(url, `/${relative}`);
		t.true(whole.body.equals(bytes));
		const during = await blockMetrics(url);
		t.is(during.fetches, pinned.fetches, 'nothing more cached while the budget is pinned');
		t.true(during.refused >= 2, `${during.refused} refused`);

		// (Its last write may complete as the client leaves, and the next block be read.)
		stalled.destroy();
		const left = await settled(() => blockMetrics(url));
		t.true(left.fetches - during.fetches <= 1);
		const again = await request(url, `/${relative}`);
		t.true(again.body.equals(bytes));
		const after = await blockMetrics(url);
		t.is(after.fetches, left.fetches + 16, 'room again: each block read once, through the cache');
		t.is(after.refused, during.refused);
		t.is(after.bytes, MiB);
	},
);

s3Test(
	'an artifact replaced in the store mid-download: that download is cut short, never mixed; the next is the new one whole',
	async (t) => {
		const {bucket, relative, bytes, url} = await servedArtifact(t, 16 * MiB, {s3BlockCacheBytes: MiB});
		const stalled = stalledDownload(url, relative);
		await stalled.started;
		await settled(() => blockMetrics(url));

		const replaced = randomBytes(bytes.length);
		const client = testClient();
		t.teardown(() => client.destroy());
		await client.send(
			new PutObjectCommand({Bucket: bucket.bucket, Key: `mirror/${relative}`, Body: replaced}),
		);

		const {body, complete} = await stalled.resume();
		t.false(complete, 'the body was cut, not ended');
		t.true(body.length < bytes.length, `${body.length} of ${bytes.length} bytes`);
		t.true(body.equals(bytes.subarray(0, body.length)), 'every byte received is of the old version');

		const next = await request(url, `/${relative}`);
		t.is(next.status, 200);
		t.true(next.body.equals(replaced), 'the new version, whole, without waiting for a manifest');
	},
);
