/**
Date validators and SNAPSHOT rebuilds, for a directory and an S3 store. Upstream rebuilds
a SNAPSHOT under the same name, often with the same Last-Modified (the mirror keeps
upstream's) and size: only the ETag tells the new bytes from the old, so dates count
only for files that never change (releases).
*/

import {randomBytes} from 'node:crypto';
import test, {type ExecutionContext} from 'ava';
import type {ServeConfig} from '../src/config/index.js';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {ensureS3, s3Env, withBucket} from './helpers/s3.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 validator test', await ensureS3());

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const snapshot = '9.2.0-SNAPSHOT';
const release = '9.1.3';

/** Sync both versions into a directory (or a bucket), serve it; `rebuild` re-publishes the SNAPSHOT and syncs. */
async function mirrorOf(t: ExecutionContext, store: 'dir' | 's3') {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: [release, snapshot],
		platforms: ['linux-x86_64'],
		size: 200_000,
	});
	const bucket = store === 's3' ? await withBucket(t) : undefined;
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: `${release},${snapshot}`,
		platforms: 'linux-x86_64',
		...(bucket ? {store: bucket.url} : {}),
	});
	const sync = async () => {
		const {summary} = await runSync(flags, s3Env);
		t.is(summary.result, 'success');
	};

	await sync();
	const overrides: Partial<ServeConfig> = bucket
		? {location: s3Location(bucket.location), indexRefreshMs: 100}
		: {};
	const server = await withServer(t, bucket ? '/nonexistent-dir-unused-with-a-store' : dir, overrides);
	const pathOf = (version: string) => upstream.refs.find((ref) => ref.version === version)?.path ?? '';
	return {
		url: server.url,
		pathOf,
		async rebuild(): Promise<Buffer> {
			const artifact = pathOf(snapshot);
			const old = upstream.files.get(artifact) as Buffer;
			const bytes = randomBytes(old.length);
			await upstream.publish(artifact, bytes);
			await sync();
			// An S3 replica sees the new manifest at its next refresh.
			await new Promise((resolve) => setTimeout(resolve, 500));
			return bytes;
		},
	};
}

async function validators(t: ExecutionContext, store: 'dir' | 's3'): Promise<void> {
	const mirror = await mirrorOf(t, store);
	const artifact = `/${mirror.pathOf(snapshot)}`;
	const sidecar = `${artifact}.sha512`;
	const before = await request(mirror.url, artifact);
	const beforeSidecar = await request(mirror.url, sidecar);
	const date = before.headers['last-modified'] ?? '';
	t.is(
		(await request(mirror.url, artifact, {headers: {'If-None-Match': before.headers.etag ?? ''}})).status,
		304,
	);

	const bytes = await mirror.rebuild();
	const after = await request(mirror.url, artifact);
	t.true(after.body.equals(bytes), 'the rebuilt SNAPSHOT is served');
	t.is(after.headers['last-modified'], date, 'upstream kept its Last-Modified');
	t.not(after.headers.etag, before.headers.etag);

	const since = await request(mirror.url, artifact, {headers: {'If-Modified-Since': date}});
	t.is(since.status, 200, 'If-Modified-Since: no 304 for new bytes under the old date');
	t.true(since.body.equals(bytes));
	const sidecarSince = await request(mirror.url, sidecar, {headers: {'If-Modified-Since': date}});
	t.is(sidecarSince.status, 200);
	t.not(sidecarSince.text, beforeSidecar.text);

	const byDate = await request(mirror.url, artifact, {headers: {Range: 'bytes=100-199', 'If-Range': date}});
	t.is(byDate.status, 200, 'If-Range with a date: the whole new file, never a splice');
	t.true(byDate.body.equals(bytes));

	const stale = await request(mirror.url, artifact, {headers: {'If-None-Match': before.headers.etag ?? ''}});
	t.is(stale.status, 200);
	const current = await request(mirror.url, artifact, {
		// If-None-Match decides when present: the old date beside it changes nothing.
		headers: {
			'If-None-Match': after.headers.etag ?? '',
			'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT',
		},
	});
	t.is(current.status, 304);
	const byEtag = await request(mirror.url, artifact, {
		headers: {Range: 'bytes=100-199', 'If-Range': after.headers.etag ?? ''},
	});
	t.is(byEtag.status, 206);
	t.true(byEtag.body.equals(bytes.subarray(100, 200)));

	// A release never changes under its name: its date still validates.
	const released = `/${mirror.pathOf(release)}`;
	const releaseDate = (await request(mirror.url, released, {method: 'HEAD'})).headers['last-modified'] ?? '';
	t.is((await request(mirror.url, released, {headers: {'If-Modified-Since': releaseDate}})).status, 304);
	const range = await request(mirror.url, released, {
		headers: {Range: 'bytes=100-199', 'If-Range': releaseDate},
	});
	t.is(range.status, 206);
}

test('directory store: after a SNAPSHOT rebuild with the same Last-Modified, dates give no 304 and no spliced range', async (t) => {
	await validators(t, 'dir');
});

s3Test(
	'S3 store: after a SNAPSHOT rebuild with the same Last-Modified, dates give no 304 and no spliced range',
	async (t) => {
		await validators(t, 's3');
	},
);
