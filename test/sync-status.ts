import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type {Status} from '../src/store/status.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

test('a sync with two failing files records both in lastRun.failures (redacted), and history grows run by run', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64', 'windows-x86_64'],
	});
	const [first, second] = upstream.refs.map((ref) => ref.path);
	upstream.faults.set(first as string, {statuses: [503, 503]});
	upstream.files.delete(`${second}.asc`);
	const flags = syncFlags(upstream.url.replace('http://', 'http://user:hunter2@'), dir, keyPath, {
		versions: '9.1.3',
		platforms: 'linux-x86_64,linux-arm64,windows-x86_64',
		retries: '1',
	});
	const readStatus = async () =>
		JSON.parse(await readFile(path.join(dir, '.mirror', 'status.json'), 'utf8')) as Status;

	const {summary} = await runSync(flags);
	t.is(summary.result, 'failed');
	let status = await readStatus();
	const failures = status.lastRun?.failures ?? [];
	t.deepEqual(failures.map((failure) => failure.path).sort(), [first, second].sort());
	const byPath = Object.fromEntries(failures.map((failure) => [failure.path, failure]));
	t.is(byPath[first as string]?.code, 'ERR_UPSTREAM');
	t.regex(byPath[first as string]?.reason ?? '', /HTTP 503 for http:\/\/\*\*\*@127\.0\.0\.1/);
	t.is(byPath[second as string]?.code, 'ERR_SIDECAR');
	t.false(JSON.stringify(status).includes('hunter2'));
	t.is(status.history?.length, 1);
	t.is(status.lastRun?.counts.failed, 2);

	await upstream.publish(second as string, upstream.files.get(second as string) as Buffer);
	await runSync(flags);
	status = await readStatus();
	t.is(status.lastRun?.result, 'success');
	t.deepEqual(status.lastRun?.failures, []);
	t.is(status.history?.length, 2);
	t.deepEqual(
		status.history?.map((run) => run.result),
		['success', 'failed'],
	);
});
