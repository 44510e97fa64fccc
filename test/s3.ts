/**
The object-store mode against a real S3 server (Ceph radosgw on loopback, see
test/helpers/s3.ts): sync to a bucket, serve from it, locks and leases, redirects,
and the errors of a store that cannot be used.
*/

import {execFileSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import {mkdir, rename} from 'node:fs/promises';
import path from 'node:path';
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import * as openpgp from 'openpgp';
import {sync} from '../src/agent/sync.js';
import {loadSyncConfig, type ServeConfig} from '../src/config/index.js';
import type {SyncEvent} from '../src/mirror/events.js';
import {s3Location} from '../src/store/location.js';
import {openStore} from '../src/store/open.js';
import type {S3Location} from '../src/store/s3/location.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, startCli, syncFlags, toArgs} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

// In-process syncs and servers use the SDK too; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 tests', await ensureS3(), {serial: true});

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('hex');

/** Serve the bucket on a port-0 server, looking for a new manifest every 100 ms. */
function serveBucket(
	t: Parameters<typeof withServer>[0],
	location: S3Location,
	overrides: Partial<ServeConfig> = {},
) {
	return withServer(t, '/nonexistent-dir-unused-with-a-store', {
		location: s3Location(location),
		indexRefreshMs: 100,
		...overrides,
	});
}

/** Download an artifact and its sidecars the way Elastic Agent does, and verify them. */
async function downloadLikeAgent(t: ExecutionContext, base: string, relative: string, expected: Buffer) {
	const agent = {'User-Agent': 'Beat elastic-agent v9.1.2', 'Accept-Encoding': 'gzip'};
	const file = await request(base, `/${relative}`, {headers: agent});
	t.is(file.status, 200, relative);
	t.is(Number(file.headers['content-length']), file.body.length, relative);
	t.is(file.headers['content-encoding'], undefined, relative);
	t.true(file.body.equals(expected), relative);
	const sidecar = await request(base, `/${relative}.sha512`, {headers: agent});
	t.is(sidecar.text.split(/\s+/)[0], sha512(file.body), relative);
	const asc = await request(base, `/${relative}.asc`, {headers: agent});
	const {signatures} = await openpgp.verify({
		message: await openpgp.createMessage({binary: file.body}),
		signature: await openpgp.readSignature({armoredSignature: asc.text}),
		verificationKeys: await openpgp.readKey({armoredKey: key.armoredPublic}),
	});
	await t.notThrowsAsync(signatures[0]?.verified as Promise<true>, relative);
	return file;
}

s3Test(
	'sync into a bucket, serve from it: agent-like downloads verify, and every HTTP rule of the directory mode holds',
	async (t) => {
		const {upstream, dir, keyPath} = await withUpstream(t, key, {
			versions: ['9.1.3'],
			platforms: ['linux-x86_64', 'windows-x86_64'],
			size: 300 * 1024,
		});
		const bucket = await withBucket(t);
		const {summary} = await runSync(
			syncFlags(upstream.url, dir, keyPath, {
				versions: '9.1.3',
				store: bucket.url,
				platforms: 'linux-x86_64,windows-x86_64',
			}),
			s3Env,
		);
		t.is(summary.result, 'success');
		// Keys apart (issue 14 item 18).
		t.is(summary.published, 2, 'two artifacts');
		t.deepEqual(summary.keys, {published: 2, present: 0});

		// Keys in the bucket are the upstream paths under the prefix; state sits apart.
		const client = testClient();
		t.teardown(() => client.destroy());
		const [ref] = upstream.refs;
		const object = await client.send(
			new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${ref?.path}`}),
		);
		t.is(object.ContentType, 'application/gzip');
		t.is(object.CacheControl, 'public, max-age=31536000, immutable');
		await object.Body?.transformToByteArray();

		const server = await serveBucket(t, bucket.location);
		for (const item of upstream.refs) {
			await downloadLikeAgent(t, server.url, item.path, upstream.files.get(item.path) as Buffer);
		}

		const relative = `/${ref?.path}`;
		const whole = await request(server.url, relative);
		const etag = String(whole.headers.etag);
		t.regex(etag, /^"[0-9a-f]{32}"$/, 'strong, plain hex: no dash');
		t.is(whole.headers['accept-ranges'], 'bytes');
		t.is(whole.headers['cache-control'], 'public, max-age=31536000, immutable');
		t.is(
			whole.headers['last-modified'],
			'Thu, 15 Jan 2026 10:00:00 GMT',
			"upstream's date, not the upload's",
		);

		const notModified = await request(server.url, relative, {headers: {'If-None-Match': etag}});
		t.is(notModified.status, 304);
		t.is(notModified.body.length, 0);

		const part = await request(server.url, relative, {headers: {Range: 'bytes=1000-2999'}});
		t.is(part.status, 206);
		t.is(part.headers['content-range'], `bytes 1000-2999/${whole.body.length}`);
		t.true(part.body.equals(whole.body.subarray(1000, 3000)));
		const stale = await request(server.url, relative, {headers: {Range: 'bytes=0-9', 'If-Range': '"other"'}});
		t.is(stale.status, 200, 'If-Range that does not match: the whole file');
		t.is(stale.body.length, whole.body.length);
		const outside = await request(server.url, relative, {
			headers: {Range: `bytes=${whole.body.length + 10}-`},
		});
		t.is(outside.status, 416);
		t.is(outside.headers['content-range'], `bytes */${whole.body.length}`);
		const head = await request(server.url, relative, {method: 'HEAD'});
		t.is(head.headers['content-length'], String(whole.body.length));
		t.is(head.body.length, 0);

		t.is((await request(server.url, '/downloads/beats/elastic-agent/nope-9.1.3.tar.gz')).status, 404);
		t.is((await request(server.url, '/.mirror/manifest.json')).status, 404, 'state is never served');
		const listing = await request(server.url, '/downloads/beats/elastic-agent/', {
			headers: {Accept: 'application/json'},
		});
		const names = (JSON.parse(listing.text) as {entries: Array<{name: string}>}).entries.map(
			(entry) => entry.name,
		);
		t.true(names.includes(path.posix.basename(ref?.path ?? '')));
		t.true(names.includes(`${path.posix.basename(ref?.path ?? '')}.asc`));
		t.is((await request(server.url, '/downloads/beats/elastic-agent')).status, 301);

		const api = JSON.parse((await request(server.url, '/api/v1/artifacts')).text) as {artifacts?: unknown[]};
		t.is(api.artifacts?.length, 2);

		// A second sync fetches nothing: the manifest and one listing say all is there.
		const before = upstream.bodyRequests().length;
		const again = await runSync(
			syncFlags(upstream.url, dir, keyPath, {
				versions: '9.1.3',
				store: bucket.url,
				platforms: 'linux-x86_64,windows-x86_64',
			}),
			s3Env,
		);
		t.is(again.summary.result, 'success');
		t.is(again.summary.published, 0);
		t.is(upstream.bodyRequests().length, before);
	},
);

s3Test(
	'two servers on one bucket both serve a version synced after they started, without a restart',
	async (t) => {
		const {upstream, dir, keyPath} = await withUpstream(t, key, {
			versions: ['9.1.2', '9.1.3'],
			platforms: ['linux-x86_64'],
		});
		const bucket = await withBucket(t);
		const flags = (versions: string) =>
			syncFlags(upstream.url, dir, keyPath, {versions, store: bucket.url, platforms: 'linux-x86_64'});
		t.is((await runSync(flags('9.1.2'), s3Env)).summary.result, 'success');
		const servers = [await serveBucket(t, bucket.location), await serveBucket(t, bucket.location)];
		const newer = upstream.refs.find((ref) => ref.version === '9.1.3');
		for (const server of servers) {
			t.is((await request(server.url, '/v1/versions')).text.includes('9.1.3'), false);
		}

		t.is((await runSync(flags('9.1.2,9.1.3'), s3Env)).summary.result, 'success');
		await new Promise((resolve) => {
			setTimeout(resolve, 300);
		});
		for (const server of servers) {
			t.true((await request(server.url, '/v1/versions')).text.includes('9.1.3'));
			await downloadLikeAgent(
				t,
				server.url,
				newer?.path ?? '',
				upstream.files.get(newer?.path ?? '') as Buffer,
			);
			t.true((await request(server.url, '/')).text.includes('9.1.3'));
		}
	},
);

s3Test('sync while serving: a reader never gets a torn artifact or one without its sidecars', async (t) => {
	const platforms = ['linux-x86_64', 'linux-arm64', 'windows-x86_64', 'darwin-aarch64'];
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms,
		size: 2 * 1024 * 1024,
	});
	const bucket = await withBucket(t);
	const server = await serveBucket(t, bucket.location);
	// Artifacts arrive one after another, some slowly, while readers poll all of them.
	upstream.refs.forEach((ref, index) => {
		upstream.faults.set(ref.path, {bytesPerSecond: (index + 1) * 1024 * 1024});
	});
	let syncing = true;
	const synced = runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '9.1.3',
			store: bucket.url,
			platforms: platforms.join(','),
			concurrency: '2',
		}),
		s3Env,
	).finally(() => {
		syncing = false;
	});

	let complete = 0;
	let absent = 0;
	while (syncing) {
		for (const ref of upstream.refs) {
			const file = await request(server.url, `/${ref.path}`);
			if (file.status === 404) {
				absent++;
				continue;
			}

			t.is(file.status, 200);
			t.true(file.body.equals(upstream.files.get(ref.path) as Buffer), `${ref.path}: whole and exact`);
			const [sidecar, asc] = await Promise.all([
				request(server.url, `/${ref.path}.sha512`),
				request(server.url, `/${ref.path}.asc`),
			]);
			t.is(sidecar.status, 200, `${ref.path}: its .sha512 is there`);
			t.is(asc.status, 200, `${ref.path}: its .asc is there`);
			t.is(sidecar.text.split(/\s+/)[0], sha512(file.body));
			complete++;
		}
	}

	t.is((await synced).summary.result, 'success');
	t.true(absent > 0 && complete > 0, `readers saw both states (absent ${absent}, complete ${complete})`);
});

s3Test('a second sync on the same bucket exits 3 while the first holds the lease', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 512 * 1024,
	});
	const bucket = await withBucket(t);
	const [ref] = upstream.refs;
	// The first sync downloads slowly (about 8 s), so that it holds the lease meanwhile.
	upstream.faults.set(ref?.path ?? '', {bytesPerSecond: 64 * 1024});
	const args = [
		'sync',
		'--json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {
				versions: '9.1.3',
				store: bucket.url,
				platforms: 'linux-x86_64',
			}),
		),
	];
	const first = startCli(args, {env: s3Env});
	// Wait until the first one is downloading.
	for (let i = 0; i < 100 && !first.stdoutSoFar().includes('"download"'); i++) {
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}

	const second = await runCli(args, {env: s3Env});
	t.is(second.code, 3, `${second.stderr}\n${second.stdout}\n---first:\n${first.stdoutSoFar()}`);
	t.regex(
		second.stdout + second.stderr,
		/another sync holds s3:\/\/t-[0-9a-f]+\/mirror\/\.mirror\/sync\.lock/,
	);
	const done = await first.result;
	t.is(done.code, 0, done.stderr);
});

s3Test('a lease its holder stopped renewing expires and the next sync takes it over', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	const dead = {host: 'gone-host', pid: 4242, token: 'dead', startedAt: '2026-01-01T00:00:00.000Z'};
	const putLock = (expiresAt: Date) =>
		client.send(
			new PutObjectCommand({
				Bucket: bucket.bucket,
				Key: 'mirror/.mirror/sync.lock',
				Body: JSON.stringify({...dead, expiresAt: expiresAt.toISOString()}),
			}),
		);
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: '9.1.3',
		store: bucket.url,
		platforms: 'linux-x86_64',
	});

	await putLock(new Date(Date.now() + 60_000));
	await t.throwsAsync(runSync(flags, s3Env), {message: /another sync holds .*gone-host, pid 4242/});

	await putLock(new Date(Date.now() - 1000));
	const {summary} = await runSync(flags, s3Env);
	t.is(summary.result, 'success');
	t.true(
		summary.warnings.some((warning) => warning.includes('gone-host')),
		JSON.stringify(summary.warnings),
	);
	// Released at the end: the next run takes it at once.
	t.is((await runSync(flags, s3Env)).summary.result, 'success');
});

s3Test(
	'redirect mode: artifact bodies 302 to a presigned URL of the store; sidecars, keys and pages stay',
	async (t) => {
		const {upstream, dir, keyPath} = await withUpstream(t, key, {
			versions: ['9.1.3'],
			platforms: ['linux-x86_64'],
		});
		const bucket = await withBucket(t);
		t.is(
			(
				await runSync(
					syncFlags(upstream.url, dir, keyPath, {
						versions: '9.1.3',
						store: bucket.url,
						platforms: 'linux-x86_64',
					}),
					s3Env,
				)
			).summary.result,
			'success',
		);
		const server = await serveBucket(t, bucket.location, {s3Redirect: true});
		const [ref] = upstream.refs;
		const redirect = await request(server.url, `/${ref?.path}`);
		t.is(redirect.status, 302);
		t.is(redirect.headers['cache-control'], 'no-store');
		const location = new URL(String(redirect.headers.location));
		t.is(location.origin, 'http://127.0.0.1:7480');
		t.regex(location.search, /X-Amz-Signature=/);
		t.regex(location.search, /X-Amz-Expires=300/);
		// What the agent gets when it follows the redirect.
		const body = Buffer.from(await (await fetch(location)).arrayBuffer());
		t.true(body.equals(upstream.files.get(ref?.path ?? '') as Buffer));
		// A HEAD is answered here: the presigned URL is for GET only, and the store refuses a HEAD on it.
		const head = await fetch(`${server.url}/${ref?.path}`, {method: 'HEAD', redirect: 'manual'});
		t.is(head.status, 200);
		t.is(Number(head.headers.get('content-length')), body.length);

		const sidecar = await request(server.url, `/${ref?.path}.sha512`);
		t.is(sidecar.status, 200);
		t.is(sidecar.text.split(/\s+/)[0], sha512(body));
		t.is((await request(server.url, '/GPG-KEY-elastic-agent')).status, 200);
		t.is((await request(server.url, '/')).status, 200);
	},
);

s3Test('wrong credentials and a missing bucket: one clear line and exit 2, for sync and serve', async (t) => {
	const bucket = await withBucket(t);
	const wrong = {...s3Env, AWS_SECRET_ACCESS_KEY: 'not-the-secret-0000000000000000000000000'};
	for (const command of [
		['sync', '--versions', '9.1.3', '--upstream', 'http://127.0.0.1:9'],
		['serve', '--port', '0'],
	]) {
		const refused = await runCli([...command, '--store', bucket.url], {env: wrong});
		t.is(refused.code, 2, refused.stderr);
		t.regex(
			refused.stderr.trim(),
			/^error: the S3 store at http:\/\/127\.0\.0\.1:7480 refused access to s3:\/\/t-[0-9a-f]+\/mirror \(HTTP 403\): check the credentials/,
		);
		t.is(refused.stderr.trim().split('\n').length, 1, refused.stderr);

		const missing = await runCli([...command, '--store', 's3://no-such-bucket-here/mirror'], {env: s3Env});
		t.is(missing.code, 2, missing.stderr);
		t.is(missing.stderr.trim(), 'error: bucket no-such-bucket-here does not exist at http://127.0.0.1:7480');
	}

	const unreachable = await runCli(['serve', '--port', '0', '--store', bucket.url], {
		env: {...s3Env, MIRROR_S3_ENDPOINT: 'http://127.0.0.1:9'},
	});
	t.is(unreachable.code, 2, unreachable.stderr);
	t.is(unreachable.stderr.trim(), 'error: cannot reach the S3 endpoint http://127.0.0.1:9 (ECONNREFUSED)');
});

/**
An in-process sync of two artifacts into a fresh bucket with a 1 s lease, each
download lasting about 3 s; its events and the bucket on view.
*/
async function startLeasedSync(t: ExecutionContext) {
	const setup = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
		size: 96 * 1024,
	});
	for (const ref of setup.upstream.refs) {
		setup.upstream.faults.set(ref.path, {bytesPerSecond: 32 * 1024});
	}

	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	const {options} = loadSyncConfig({
		flags: syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
			versions: '9.1.3',
			store: bucket.url,
			platforms: 'linux-x86_64,windows-x86_64',
		}) as never,
		env: s3Env,
		cwd: process.cwd(),
	});
	const events: SyncEvent[] = [];
	const run = sync({...options, lease: {ttlMs: 1000, renewEveryMs: 200}}, (event) => events.push(event));
	return {run, events, bucket, client};
}

async function readLock(
	client: S3Client,
	bucket: string,
): Promise<{token: string; expiresAt: string} | undefined> {
	try {
		const object = await client.send(new GetObjectCommand({Bucket: bucket, Key: 'mirror/.mirror/sync.lock'}));
		return JSON.parse((await object.Body?.transformToString()) ?? '') as {token: string; expiresAt: string};
	} catch {
		return undefined;
	}
}

s3Test('a sync that runs longer than its lease renews it all along', async (t) => {
	const {run: started, bucket, client} = await startLeasedSync(t);
	let running = true;
	const run = started.finally(() => {
		running = false;
	});
	const seen = new Map<string, Set<string>>();
	while (running) {
		const lock = await readLock(client, bucket.bucket);
		if (lock) {
			seen.set(lock.token, (seen.get(lock.token) ?? new Set()).add(lock.expiresAt));
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 100);
		});
	}

	const summary = await run;
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	// Keys apart (issue 14 item 18).
	t.is(summary.published, 2);
	const [expiries] = [...seen.values()];
	t.is(seen.size, 1, 'one holder all along');
	t.true((expiries?.size ?? 0) >= 5, `renewed many times (${expiries?.size} expiry times seen)`);
	t.is(await readLock(client, bucket.bucket), undefined, 'released at the end');
});

s3Test('a sync whose lease is taken away stops with ERR_LOCK_LOST and publishes nothing more', async (t) => {
	const {run, events, bucket, client} = await startLeasedSync(t);
	run.catch(() => undefined);
	for (let i = 0; i < 100 && !events.some((event) => event.type === 'download'); i++) {
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}

	// Another sync takes the lock (as one would after a long network partition of this one).
	const other = {host: 'other-host', pid: 7, token: 'other', startedAt: new Date().toISOString()};
	await client.send(
		new PutObjectCommand({
			Bucket: bucket.bucket,
			Key: 'mirror/.mirror/sync.lock',
			Body: JSON.stringify({...other, expiresAt: new Date(Date.now() + 60_000).toISOString()}),
		}),
	);
	const started = Date.now();
	await t.throwsAsync(run, {code: 'ERR_LOCK_LOST', message: /was taken over by another sync/});
	t.true(Date.now() - started < 10_000, 'stops at its first write after the loss');
	t.false(events.some((event) => event.type === 'published'));

	const listed = await client.send(new ListObjectsV2Command({Bucket: bucket.bucket, Prefix: 'mirror/'}));
	t.deepEqual(
		(listed.Contents ?? []).map((object) => object.Key),
		['mirror/.mirror/sync.lock'],
		'no artifact, sidecar, manifest or status was written',
	);
	t.is((await readLock(client, bucket.bucket))?.token, 'other', "the new holder's lock stays");
});

s3Test('SIGTERM during a sync into a bucket releases the lease and exits 143', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 512 * 1024,
	});
	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	upstream.faults.set(upstream.refs[0]?.path ?? '', {bytesPerSecond: 64 * 1024});
	const running = startCli(
		[
			'sync',
			'--json',
			...toArgs(
				syncFlags(upstream.url, dir, keyPath, {
					versions: '9.1.3',
					store: bucket.url,
					platforms: 'linux-x86_64',
				}),
			),
		],
		{env: s3Env},
	);
	for (let i = 0; i < 200 && !running.stdoutSoFar().includes('"download"'); i++) {
		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}

	t.truthy(await readLock(client, bucket.bucket), 'the sync holds the lease');
	running.child.kill('SIGTERM');
	const stopped = await running.result;
	t.is(stopped.code, 143, stopped.stderr);
	t.is(await readLock(client, bucket.bucket), undefined, 'the lease is released');
});

s3Test('/metrics of a replica reports how long the lease in the bucket has been held', async (t) => {
	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	const server = await serveBucket(t, bucket.location);
	const lockAge = async () =>
		Number(/^mirror_sync_lock_age_seconds (\S+)$/m.exec((await request(server.url, '/metrics')).text)?.[1]);
	t.is(await lockAge(), 0, 'no lease: 0');

	const startedAt = new Date(Date.now() - 90_000).toISOString();
	await client.send(
		new PutObjectCommand({
			Bucket: bucket.bucket,
			Key: 'mirror/.mirror/sync.lock',
			Body: JSON.stringify({
				host: 'elsewhere',
				pid: 7,
				token: 'held',
				startedAt,
				expiresAt: new Date(Date.now() + 60_000).toISOString(),
			}),
		}),
	);
	const age = await lockAge();
	t.true(age >= 89 && age < 300, `lock age ${age}`);
});

/**
A killed import's staging that the clean-up after taking the lock cannot remove:
a folder nested deeper than PATH_MAX (Node 20's recursive rm walks it by full paths),
built by renames of short paths only. `rm -rf` removes it at teardown.
*/
async function unremovableStaging(t: ExecutionContext, tmp: string): Promise<string> {
	const staging = path.join(tmp, 'import-stuck');
	const name = 'd'.repeat(200);
	await mkdir(path.join(staging, name), {recursive: true});
	t.teardown(() => {
		execFileSync('rm', ['-rf', staging]);
	});
	for (let depth = 0; depth < 25; depth++) {
		await mkdir(path.join(staging, 'n'));
		await rename(path.join(staging, name), path.join(staging, 'n', name));
		await rename(path.join(staging, 'n'), path.join(staging, name));
	}

	return staging;
}

/** A new bucket, an SDK client to look into it, and the mirror store in it with a one-minute lease renewed every `renewEveryMs`. */
async function leasedBucketStore(t: ExecutionContext, renewEveryMs: number) {
	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	const target = await openStore({
		location: s3Location(bucket.location),
		lease: {ttlMs: 60_000, renewEveryMs},
	});
	t.teardown(() => target.close());
	return {bucket, client, target};
}

s3Test(
	'a lease whose setup fails is released at once, and the next sync in this process takes the lock',
	async (t) => {
		const {bucket, client, target} = await leasedBucketStore(t, 200);
		const staging = await unremovableStaging(t, target.tmp);
		await t.throwsAsync(
			target.lock(() => undefined),
			{code: 'ENAMETOOLONG'},
		);
		t.is(await readLock(client, bucket.bucket), undefined, 'the lease is released');

		execFileSync('rm', ['-rf', staging]);
		const lock = await target.lock(() => undefined);
		t.truthy(await readLock(client, bucket.bucket));
		await lock.release();
		t.is(await readLock(client, bucket.bucket), undefined);
	},
);

s3Test(
	'release of the S3 lock waits for the upload under way, then refuses every write, the run record too',
	async (t) => {
		const {bucket, client, target} = await leasedBucketStore(t, 20_000);
		const lock = await target.lock(() => undefined);
		// Large enough that the upload is still running when release is called.
		const uploading = target.publishRootFile('big-file', randomBytes(64 * 1024 * 1024));
		uploading.catch(() => undefined);
		await lock.release();
		const listed = async () =>
			(
				(await client.send(new ListObjectsV2Command({Bucket: bucket.bucket, Prefix: 'mirror/'}))).Contents ??
				[]
			).map((object) => object.Key);
		t.deepEqual(
			await listed(),
			['mirror/big-file'],
			'released after the upload finished; the lock object is gone',
		);
		await t.notThrowsAsync(uploading);

		const run = {
			startedAt: new Date().toISOString(),
			finishedAt: new Date().toISOString(),
			result: 'failed' as const,
			counts: {published: 0, present: 0, notPublished: 0, failed: 0, bytes: 0},
		};
		await t.throwsAsync(target.recordRun(run), {code: 'ERR_LOCK_LOST'});
		await t.throwsAsync(target.writeManifest({} as never), {code: 'ERR_LOCK_LOST'});
		await t.throwsAsync(target.remove('big-file'), {code: 'ERR_LOCK_LOST'});
		t.deepEqual(await listed(), ['mirror/big-file'], 'nothing written after release');
	},
);
