/**
End to end: `sync --defend-artifacts` from the fake security host into a directory and
into a bucket, `serve` in front of it, and an endpoint-like client polling the server
with only `base_url` changed. An update upstream, synced while the server runs, reaches
the client within seconds without a restart; the version whose artifact is bad is not
served at all.
*/
import type {ExecutionContext} from 'ava';
import test from 'ava';
import {s3Location} from '../src/store/location.js';
import {checkDefendVersion} from './helpers/defend-checks.js';
import {endpointClient} from './helpers/endpoint-client.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {gatedTest} from './helpers/gate.js';
import {getJson, request} from './helpers/http.js';
import {eventually} from './helpers/package-checks.js';
import {runSync} from './helpers/run.js';
import {ensureS3, s3Env, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

// In-process syncs and servers use the SDK; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 Defend end-to-end test', await ensureS3(), {serial: true});

const good = ['8.19.3', '9.0.7', '9.1.3'];

/** Flags of a Defend-only sync: the binaries' hosts are a port nobody listens on. */
function defendFlags(host: FakeSecurityHost, target: Record<string, string>) {
	return {
		...target,
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'retry-delay': '5',
		timeout: '5',
		'defend-artifacts': [...good, '9.1.2'].join(','),
		'defend-upstream': host.url,
	};
}

/** Sync, serve, poll like Endpoint; then update upstream, sync again and see it served. */
async function scenario(
	t: ExecutionContext,
	host: FakeSecurityHost,
	flags: Record<string, unknown>,
	env: Record<string, string>,
	serve: () => Promise<string>,
): Promise<void> {
	const first = await runSync(flags, env);
	// 9.1.2 names a bad artifact: the run fails for it, the good versions are published.
	t.is(first.summary.result, 'failed');
	const url = await serve();
	const clients = new Map(good.map((version) => [version, endpointClient(url, version)]));
	for (const [version, client] of clients) {
		const poll = await client.poll();
		t.like(poll, {status: 200}, version);
		if (poll.status === 200) {
			t.log(`${version}: ${poll.log[0] ?? ''}; ${poll.artifacts.length} artifacts checked`);
		}

		t.deepEqual(await client.poll(), {status: 304}, version);
		await checkDefendVersion(t, url, host, version);
	}

	t.is((await request(url, '/downloads/endpoint/manifest/artifacts-9.1.2.zip')).status, 404);
	const page = (await request(url, '/')).text;
	t.regex(
		page,
		/Defend versions: 3 updated, 0 unchanged, 1 not updated, 1[0-9] artifacts published; [1-9]\d* failed/,
	);
	t.false(page.includes('0 published, 0 already present'), 'no binaries were synced: no binary counts');
	t.regex(page, /Holding Elastic Defend protections for 3 versions\./);

	const spec = standardDefendVersions.find((v) => v.version === '9.1.3');
	if (!spec) {
		throw new Error('the standard set has 9.1.3');
	}

	await host.publish({
		...spec,
		manifestVersion: '1.0.2440',
		artifacts: [...spec.artifacts, {identifier: 'trustlist-v1', content: JSON.stringify({entries: ['x']})}],
	});
	await runSync(flags, env);
	const client = clients.get('9.1.3');
	let seen: Awaited<ReturnType<NonNullable<typeof client>['poll']>> | undefined;
	t.true(
		await eventually(async () => {
			seen = await client?.poll();
			return seen?.status === 200;
		}),
	);
	t.like(seen, {status: 200, manifestVersion: '1.0.2440'});
	t.deepEqual(await client?.poll(), {status: 304});
	t.deepEqual(await clients.get('9.0.7')?.poll(), {status: 304}, 'an unchanged version stays a 304');
	t.true(
		await eventually(async () => {
			const answer = await getJson<{versions: Array<{version: string; manifestVersion: string}>}>(
				url,
				'/api/v1/defend',
			);
			return (
				answer.versions.map((v) => v.version).join() === '9.1.3,9.0.7,8.19.3' &&
				answer.versions[0]?.manifestVersion === '1.0.2440'
			);
		}),
	);
}

test('a synced mirror directory serves Endpoint, and a later sync reaches it without a restart', async (t) => {
	const host = await startFakeSecurityHost({versions: standardDefendVersions});
	t.teardown(() => host.close());
	const dir = await tempDir(t, 'serve-defend-sync-');
	await scenario(t, host, defendFlags(host, {dir}), {}, async () => (await withServer(t, dir)).url);
});

s3Test('a synced bucket serves Endpoint, and a later sync reaches it within seconds', async (t) => {
	const host = await startFakeSecurityHost({versions: standardDefendVersions});
	t.teardown(() => host.close());
	const bucket = await withBucket(t);
	await scenario(t, host, defendFlags(host, {store: bucket.url}), s3Env, async () => {
		const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
			location: s3Location(bucket.location),
			indexRefreshMs: 200,
		});
		return server.url;
	});
});
