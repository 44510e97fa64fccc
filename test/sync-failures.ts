import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {type FakeUpstream, sha512Line} from './helpers/fake-upstream.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags, toArgs} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
let stranger: TestKey;
test.before(async () => {
	[key, stranger] = await Promise.all([createTestKey(), createTestKey('Someone Else')]);
});

const version = '9.2.0-SNAPSHOT';
const linux = `downloads/beats/elastic-agent/elastic-agent-${version}-linux-x86_64.tar.gz`;
const arm = `downloads/beats/elastic-agent/elastic-agent-${version}-linux-arm64.tar.gz`;

const release = {
	linux: 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
	arm: 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-arm64.tar.gz',
};

/**
A mirror that already holds a good SNAPSHOT for two platforms. SNAPSHOTs are rebuilt
upstream, so the next run fetches whatever upstream now publishes for them.
*/
async function mirrored(t: ExecutionContext) {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: [version],
		platforms: ['linux-x86_64', 'linux-arm64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {
		versions: version,
		platforms: 'linux-x86_64,linux-arm64',
	});
	const first = await runSync(flags);
	t.is(first.summary.result, 'success');
	const good = new Map<string, Buffer>();
	for (const file of await listFiles(dir)) {
		if (!file.startsWith('.mirror/')) {
			good.set(file, await readFile(path.join(dir, file)));
		}
	}

	return {upstream, dir, keyPath, flags, good};
}

/** Upstream rebuilds `linux`: new bytes, matching sidecar, signature by `signer`. */
async function rebuild(upstream: FakeUpstream, signer = key) {
	await upstream.publish(linux, Buffer.from(`rebuilt ${Math.random()}`), signer);
}

/** Every file of the tree is byte for byte what the first sync published. */
async function assertOldCopyKept(t: ExecutionContext, dir: string, good: Map<string, Buffer>) {
	const now = (await listFiles(dir)).filter((file) => !file.startsWith('.mirror/'));
	t.deepEqual(now, [...good.keys()]);
	for (const [file, body] of good) {
		t.deepEqual(await readFile(path.join(dir, file)), body, file);
	}
}

test('a hash mismatch is not published, the old copy stays, and the run fails', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	await rebuild(upstream);
	const body = Buffer.from(upstream.files.get(linux) as Buffer);
	body[3] = (body[3] ?? 0) ^ 0xff;
	upstream.files.set(linux, body);

	const {summary} = await runSync(flags);
	t.is(summary.result, 'failed');
	t.is(summary.failed.length, 1);
	t.is(summary.failed[0]?.path, linux);
	t.is(summary.failed[0]?.code, 'ERR_CHECKSUM');
	t.regex(summary.failed[0]?.reason ?? '', /sha512 mismatch/);
	await assertOldCopyKept(t, dir, good);
	t.deepEqual(await listFiles(path.join(dir, '.mirror/tmp')), []);
});

test('a signature by an unknown key is not published', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	await rebuild(upstream, stranger);

	const {summary} = await runSync(flags);
	t.is(summary.result, 'failed');
	t.is(summary.failed[0]?.code, 'ERR_SIGNATURE');
	t.regex(summary.failed[0]?.reason ?? '', /not a trusted key/);
	await assertOldCopyKept(t, dir, good);
});

test('a signature that does not match the bytes is not published, even with a matching .sha512', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	// An attacker swaps the artifact and its checksum but cannot re-sign.
	const evil = Buffer.from('malicious payload');
	upstream.files.set(linux, evil);
	upstream.files.set(`${linux}.sha512`, Buffer.from(sha512Line(evil, path.basename(linux))));

	const {summary} = await runSync(flags);
	t.is(summary.failed[0]?.code, 'ERR_SIGNATURE');
	t.regex(summary.failed[0]?.reason ?? '', /bad signature/);
	await assertOldCopyKept(t, dir, good);
});

test('a missing .asc or .sha512 sidecar is a failure, reported per file, and nothing is downloaded for it', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	await rebuild(upstream);
	upstream.files.delete(`${linux}.asc`);
	await upstream.publish(arm, Buffer.from('rebuilt arm'));
	upstream.files.delete(`${arm}.sha512`);
	upstream.requests.length = 0;

	const {summary} = await runSync(flags);
	t.is(summary.result, 'failed');
	const reasons = Object.fromEntries(summary.failed.map((failure) => [failure.path, failure.reason]));
	t.regex(reasons[linux] ?? '', /\.asc is missing upstream/);
	t.regex(reasons[arm] ?? '', /\.sha512 is missing upstream/);
	t.deepEqual(upstream.bodyRequests(), []);
	await assertOldCopyKept(t, dir, good);
});

test('a bare-hash .sha512 (no file name) is malformed, as the agent sees it', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	await rebuild(upstream);
	const line = (upstream.files.get(`${linux}.sha512`) as Buffer).toString().split(' ')[0] ?? '';
	upstream.files.set(`${linux}.sha512`, Buffer.from(`${line}\n`));
	const {summary} = await runSync(flags);
	t.is(summary.failed[0]?.code, 'ERR_SIDECAR');
	t.regex(summary.failed[0]?.reason ?? '', /malformed/);
	await assertOldCopyKept(t, dir, good);
});

test('an error page served with 200 under an artifact name never reaches the tree', async (t) => {
	const {upstream, dir, flags, good} = await mirrored(t);
	await rebuild(upstream);
	upstream.faults.set(linux, {statuses: [200]});
	const {summary} = await runSync(flags);
	t.is(summary.failed[0]?.path, linux);
	t.is(summary.failed[0]?.code, 'ERR_CHECKSUM');
	await assertOldCopyKept(t, dir, good);
});

test('a platform not published upstream is a warning and the run succeeds (exit 0)', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
		omit: [release.arm],
	});
	const result = await runCli([
		'sync',
		'--json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64,linux-arm64'}),
		),
	]);
	t.is(result.code, 0, result.stderr);
	const warning = result.lines.find((line) => line.event === 'not-published');
	t.is(warning?.path, release.arm);
	t.is(warning?.level, 'warn');
	const summary = result.lines.at(-1)?.summary as {notPublished: number; published: number};
	t.is(summary.notPublished, 1);
	// Keys apart (issue 14 item 18).
	t.is(summary.published, 1);
});

test('a version of which nothing exists upstream is a failure (likely a typo), exit 1', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const result = await runCli([
		'sync',
		'--json',
		...toArgs(syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3,9.13.0', platforms: 'linux-x86_64'})),
	]);
	t.is(result.code, 1);
	const failure = result.lines.find((line) => line.event === 'failed');
	t.is(failure?.path, '9.13.0');
	t.regex(String(failure?.reason), /nothing is published upstream for version 9\.13\.0/);
	t.true((await listFiles(dir)).includes(release.linux));
});

test('an upstream key file holding an untrusted key is not mirrored', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		rootKey: stranger.armoredPublic,
	});
	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
	);
	t.is(summary.result, 'success');
	t.true(
		summary.warnings.some((warning) =>
			/GPG-KEY-elasticsearch upstream holds key .* not a trusted key/.test(warning),
		),
	);
	t.false((await listFiles(dir)).includes('GPG-KEY-elasticsearch'));
});

test('an unreachable or broken versions API fails the run with one line, exit 1, and touches nothing', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	upstream.faults.set('v1/versions', {statuses: [500, 500, 500]});
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(syncFlags(upstream.url, dir, keyPath, {versions: 'latest', retries: '2'})),
	]);
	t.is(result.code, 1);
	t.regex(result.stderr, /^error: upstream answered HTTP 500 for http:\/\/127\.0\.0\.1:\d+\/v1\/versions\n$/);
	t.deepEqual(await listFiles(dir), []);
});
