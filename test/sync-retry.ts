import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import type {FakeUpstream, FakeUpstreamOptions} from './helpers/fake-upstream.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const artifact = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';

async function setup(t: ExecutionContext, options: Partial<FakeUpstreamOptions> = {}) {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		size: 256 * 1024,
		...options,
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'});
	return {upstream, dir, flags};
}

async function assertPublished(t: ExecutionContext, dir: string, upstream: FakeUpstream) {
	for (const file of [artifact, `${artifact}.sha512`, `${artifact}.asc`]) {
		t.deepEqual(await readFile(path.join(dir, file)), upstream.files.get(file), file);
	}
}

test('503s on the artifact and its sidecar are retried with backoff', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {statuses: [503, 503]});
	upstream.faults.set(`${artifact}.sha512`, {statuses: [502]});

	const {summary, events} = await runSync(flags);
	t.is(summary.result, 'success');
	const retries = events.filter((event) => event.type === 'retry');
	t.is(retries.length, 3);
	t.true(retries.every((event) => event.type === 'retry' && /HTTP 50[23]/.test(event.reason)));
	await assertPublished(t, dir, upstream);
});

test('a connection cut mid-body is resumed with Range and If-Range, and the whole file is verified', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {cutAfterBytes: 100 * 1024});

	const {summary, events} = await runSync(flags);
	t.is(summary.result, 'success');
	const gets = upstream.bodyRequests();
	t.is(gets.length, 2);
	t.is(gets[0]?.range, undefined);
	t.is(gets[1]?.status, 206);
	const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
	t.true(resumedAt > 0 && resumedAt <= 100 * 1024, `resumed at ${resumedAt}`);
	t.truthy(gets[1]?.ifRange);
	const published = events.find((event) => event.type === 'published' && event.path === artifact);
	t.is(published?.type === 'published' ? published.resumedFrom : -1, resumedAt);
	// The cut-off part was not fetched again: what crossed the wire is the file plus nothing.
	t.is(summary.bytes, 256 * 1024);
	await assertPublished(t, dir, upstream);
});

test('an upstream that ignores Range gets a full download instead, still verified', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {cutAfterBytes: 100 * 1024, ignoreRange: true});

	const {summary} = await runSync(flags);
	t.is(summary.result, 'success');
	const gets = upstream.bodyRequests();
	t.is(gets.length, 2);
	t.truthy(gets[1]?.range);
	t.is(gets[1]?.status, 200);
	await assertPublished(t, dir, upstream);
});

test('a partial file of a build that changed upstream is not spliced: If-Range brings the new file whole', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {cutAfterBytes: 64 * 1024, cuts: 10});
	const first = await runSync({...flags, retries: '1'});
	t.is(first.summary.result, 'failed');
	t.is(first.summary.failed[0]?.path, artifact);
	t.false((await listFiles(dir)).includes(artifact));
	t.is((await listFiles(path.join(dir, '.mirror/tmp'))).filter((file) => file.endsWith('.part')).length, 1);

	upstream.faults.delete(artifact);
	await upstream.publish(artifact, Buffer.alloc(300 * 1024, 7));
	upstream.requests.length = 0;
	const second = await runSync(flags);
	t.is(second.summary.result, 'success');
	const [get] = upstream.bodyRequests();
	t.truthy(get?.range);
	t.is(get?.status, 200);
	await assertPublished(t, dir, upstream);
});

test('retries are bounded: a file that keeps failing is reported and nothing is published', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {statuses: [503, 503, 503]});
	const {summary} = await runSync({...flags, retries: '2'});
	t.is(summary.result, 'failed');
	t.regex(summary.failed[0]?.reason ?? '', /HTTP 503/);
	t.is(upstream.bodyRequests().length, 3);
	t.false((await listFiles(dir)).includes(artifact));
});

test('a stalled transfer times out and is retried', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	upstream.faults.set(artifact, {stalls: 1});
	const {summary, events} = await runSync({...flags, timeout: '0.5'});
	t.is(summary.result, 'success');
	t.true(events.some((event) => event.type === 'retry' && /timeout/i.test(event.reason)));
	await assertPublished(t, dir, upstream);
});
