import {createHash} from 'node:crypto';
import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import * as openpgp from 'openpgp';
import type {FakeUpstreamOptions} from './helpers/fake-upstream.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const setup = (t: ExecutionContext, options: Omit<FakeUpstreamOptions, 'key'>) =>
	withUpstream(t, key, options);

test('a clean sync publishes every selected artifact with byte-identical sidecars, and the keys', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['8.19.2', '9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64', 'deb-amd64'],
		products: ['elastic-agent', 'fleet-server'],
	});
	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '8.19.2,9.1.3',
			products: 'elastic-agent,fleet-server',
			platforms: 'linux-x86_64,windows-x86_64,deb-amd64',
		}),
	);

	t.is(summary.result, 'success');
	t.deepEqual(summary.failed, []);
	// elastic-agent: 3 platforms x 2 versions; fleet-server has no .deb: 2 x 2; the two keys apart
	// (issue 14 item 18: key files are no longer counted as published artifacts).
	t.is(summary.published, 6 + 4);
	t.deepEqual(summary.keys, {published: 2, present: 0});
	t.is(summary.notPublished, 0);

	const published = (await listFiles(dir)).filter((file) => !file.startsWith('.mirror/'));
	const expected = [...upstream.files.keys()].sort();
	t.deepEqual(published, expected);
	for (const file of expected) {
		t.true((await readFile(path.join(dir, file))).equals(upstream.files.get(file) as Buffer), file);
	}

	t.true(published.includes('downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.zip'));
	t.true(published.includes('downloads/fleet-server/fleet-server-8.19.2-linux-x86_64.tar.gz.asc'));
	t.false(published.some((file) => file.includes('fleet-server') && file.endsWith('.deb')));

	// Files carry upstream's Last-Modified as their mtime.
	const info = await stat(path.join(dir, 'downloads/beats/elastic-agent/elastic-agent-9.1.3-amd64.deb'));
	t.is(info.mtime.toISOString(), '2026-01-15T10:00:00.000Z');

	// No temp files are left over.
	t.deepEqual(
		(await listFiles(path.join(dir, '.mirror'))).filter(
			(file) => !['manifest.json', 'status.json'].includes(file),
		),
		[],
	);
});

test('the manifest records size and sha512 of every artifact, and status records the run', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'darwin-aarch64'],
	});
	await runSync(
		syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64,darwin-aarch64'}),
	);

	const manifest = JSON.parse(await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8'));
	t.is(Object.keys(manifest.files).length, 2);
	for (const ref of upstream.refs) {
		const body = upstream.files.get(ref.path) as Buffer;
		const entry = manifest.files[ref.path];
		t.is(entry.size, body.length);
		t.is(entry.sha512, createHash('sha512').update(body).digest('hex'));
		t.is(entry.version, '9.1.3');
		t.is(entry.product, 'elastic-agent');
	}

	t.deepEqual(Object.keys(manifest.keys).sort(), ['GPG-KEY-elastic-agent', 'GPG-KEY-elasticsearch']);
	t.deepEqual(manifest.keys['GPG-KEY-elasticsearch'].fingerprints, [key.fingerprint]);

	const status = JSON.parse(await readFile(path.join(dir, '.mirror/status.json'), 'utf8'));
	t.is(status.lastRun.result, 'success');
	// Two artifacts; the two keys apart (issue 14 item 18).
	t.is(status.lastRun.counts.published, 2);
	t.deepEqual(status.lastRun.counts.keys, {published: 2, present: 0});
	t.deepEqual(status.lastSuccess, status.lastRun);
});

test('ranges and latest resolve against the versions API; prereleases only when a range names one', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['8.17.4', '8.18.1', '9.0.2', '9.1.0', '9.1.3', '9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {platforms: 'linux-x86_64'});

	const latest = await runSync({...flags, versions: 'latest', 'dry-run': true});
	t.deepEqual(latest.summary.versions, ['9.1.3']);

	const ranges = await runSync({...flags, versions: '9.1.x,>=8.17.0 <9', 'dry-run': true});
	t.deepEqual(ranges.summary.versions, ['8.17.4', '8.18.1', '9.1.0', '9.1.3']);

	const snapshot = await runSync({...flags, versions: '>=9.2.0-SNAPSHOT', 'dry-run': true});
	t.deepEqual(snapshot.summary.versions, ['9.2.0-SNAPSHOT']);

	const real = await runSync({...flags, versions: '9.0.x'});
	t.is(real.summary.result, 'success');
	t.deepEqual(
		(await listFiles(path.join(dir, 'downloads'))).filter((file) => file.endsWith('.tar.gz')),
		['beats/elastic-agent/elastic-agent-9.0.2-linux-x86_64.tar.gz'],
	);
});

test('exact versions need no versions API call', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '9.1.3',
			platforms: 'linux-x86_64',
			'versions-api': 'http://127.0.0.1:9/nothing',
		}),
	);
	t.is(summary.result, 'success');
	t.false(upstream.requests.some((request) => request.path.startsWith('v1/')));
});

test('a re-run with nothing new fetches no artifact body and no sidecar', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['9.1.2', '9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: '9.1.x',
		platforms: 'linux-x86_64,linux-arm64',
	});
	await runSync(flags);
	t.is(upstream.bodyRequests().length, 4);

	upstream.requests.length = 0;
	const second = await runSync(flags);
	t.is(second.summary.result, 'success');
	t.is(second.summary.published, 0);
	// Keys apart (issue 14 item 18).
	t.is(second.summary.present, 4);
	t.deepEqual(second.summary.keys, {published: 0, present: 2});
	t.deepEqual(upstream.bodyRequests(), []);
	// Only the versions API and the two keys are asked for.
	t.deepEqual(upstream.requests.map((request) => request.path).sort(), [
		'GPG-KEY-elastic-agent',
		'GPG-KEY-elasticsearch',
		'v1/versions',
	]);
});

test('a SNAPSHOT rebuilt upstream is re-downloaded; an unchanged one costs one sidecar request', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: '9.2.0-SNAPSHOT',
		platforms: 'linux-x86_64',
	});
	await runSync(flags);

	upstream.requests.length = 0;
	const unchanged = await runSync(flags);
	t.is(unchanged.summary.published, 0);
	t.deepEqual(upstream.bodyRequests(), []);

	const artifact = upstream.refs[0]?.path as string;
	await upstream.publish(artifact, Buffer.from('rebuilt snapshot'));
	const rebuilt = await runSync(flags);
	t.is(rebuilt.summary.result, 'success');
	t.is(rebuilt.summary.published, 1);
	t.deepEqual(await readFile(path.join(dir, artifact)), Buffer.from('rebuilt snapshot'));
	t.deepEqual(await readFile(path.join(dir, `${artifact}.sha512`)), upstream.files.get(`${artifact}.sha512`));
});

test('--dry-run prints the plan and touches nothing', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
	});
	const {summary, events} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '9.1.3',
			platforms: 'linux-x86_64,linux-arm64',
			'dry-run': true,
		}),
	);
	t.true(summary.dryRun);
	const plans = events.filter((event) => event.type === 'plan');
	t.deepEqual(
		plans.map((event) => event.type === 'plan' && [event.action, event.path, event.reason]),
		upstream.refs.map((ref) => ['fetch', ref.path, 'new']),
	);
	t.deepEqual(await listFiles(dir), []);
	t.deepEqual(upstream.bodyRequests(), []);
});

test('files already on disk but not in the manifest are verified and adopted, not downloaded', async (t) => {
	const {upstream, dir, keyPath} = await setup(t, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'});
	await runSync(flags);
	const {rm} = await import('node:fs/promises');
	await rm(path.join(dir, '.mirror/manifest.json'));

	upstream.requests.length = 0;
	const {summary, events} = await runSync(flags);
	t.is(summary.result, 'success');
	t.deepEqual(upstream.bodyRequests(), []);
	t.true(events.some((event) => event.type === 'present' && event.reason === 'on disk and verified'));
	t.truthy(
		JSON.parse(await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8')).files[
			upstream.refs[0]?.path as string
		],
	);
});

test('the bundled default trusted key is Elastic release key', async (t) => {
	const {bundledKeyPath} = await import('../src/meta.js');
	const keys = await openpgp.readKeys({armoredKeys: await readFile(bundledKeyPath, 'utf8')});
	t.deepEqual(
		keys.map((entry) => entry.getFingerprint().toUpperCase()),
		['46095ACC8548582C1A2699A9D27D666CD88E42B4'],
	);
});
