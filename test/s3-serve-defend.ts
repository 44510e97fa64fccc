/**
Elastic Defend protections served from a bucket: every manifest zip and artifact
byte-identical with Endpoint's headers, including an artifact large enough to be
uploaded in parts (whose store ETag has a `-` the served one must not), an
endpoint-like client against the mirror and the fake host, and a manifest replaced
while serving.
*/
import {createHash, randomBytes} from 'node:crypto';
import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {HeadObjectCommand} from '@aws-sdk/client-s3';
import {s3Location} from '../src/store/location.js';
import {openStore} from '../src/store/open.js';
import {checkDefendVersion, metricValue} from './helpers/defend-checks.js';
import {publishDefend} from './helpers/defend-mirror.js';
import {endpointClient} from './helpers/endpoint-client.js';
import {standardDefendVersions, startFakeSecurityHost} from './helpers/fake-security.js';
import {gatedTest} from './helpers/gate.js';
import {getJson, request} from './helpers/http.js';
import {checkServedFile, eventually} from './helpers/package-checks.js';
import {ensureS3, testClient, withBucket} from './helpers/s3.js';
import {withServer} from './helpers/with-server.js';

// In-process servers use the SDK; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 Defend serving tests', await ensureS3(), {serial: true});

/** Above the store's 16 MiB part size, and random so that zlib cannot shrink it below. */
const bigModel = randomBytes(17 * 1024 * 1024 + 321);
const good = ['8.19.3', '9.0.7', '9.1.3', '9.2.0'];

/** The store's own ETag of `relative` under `location`. */
async function storeEtag(location: {bucket: string; prefix: string}, relative: string): Promise<string> {
	const client = testClient();
	try {
		const head = await client.send(
			new HeadObjectCommand({Bucket: location.bucket, Key: `${location.prefix}${relative}`}),
		);
		return head.ETag ?? '';
	} finally {
		client.destroy();
	}
}

s3Test(
	'a bucket mirror serves every Defend file byte-identical with dash-free ETags, multipart uploads included, and Endpoint polls it',
	async (t) => {
		const host = await startFakeSecurityHost({
			versions: [
				...standardDefendVersions,
				{
					version: '9.2.0',
					manifestVersion: '1.0.2450',
					artifacts: [
						{identifier: 'global-exceptionlist-linux', content: '{"entries":[]}'},
						{identifier: 'endpointpe-v5-model', content: bigModel},
					],
				},
			],
		});
		t.teardown(() => host.close());
		const {location} = await withBucket(t);
		await publishDefend(s3Location(location), host, good);
		const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
			location: s3Location(location),
			indexRefreshMs: 100,
		});
		const url = server.url;

		const big = host.filesOf('9.2.0').find((file) => file.includes('endpointpe-v5-model')) ?? '';
		t.true((host.file(big)?.length ?? 0) > 16 * 1024 * 1024);
		t.true((await storeEtag(location, big)).includes('-'), 'the large artifact was uploaded in parts');
		let files = 0;
		for (const version of good) {
			files += await checkDefendVersion(t, url, host, version);
		}

		t.is(files, 21 + 3);
		for (const version of good) {
			for (const base of [host.url, url]) {
				const client = endpointClient(base, version);
				t.like(await client.poll(), {status: 200}, `${version} from ${base}`);
				t.deepEqual(await client.poll(), {status: 304}, `${version} from ${base}: the second poll`);
			}
		}

		// A large file published without its sha512 (as a plain tree file would be) still gets a dash-free ETag.
		const store = await openStore({location: s3Location(location)});
		t.teardown(() => store.close());
		await mkdir(store.tmp, {recursive: true});
		const partPath = path.join(store.tmp, 'raw-model.part');
		await writeFile(partPath, bigModel);
		const lock = await store.lock(() => undefined);
		await store.publishFiles([{relative: 'downloads/endpoint/artifacts/raw/model', from: {partPath}}]);
		await lock.release();
		t.true((await storeEtag(location, 'downloads/endpoint/artifacts/raw/model')).includes('-'));
		await checkServedFile(
			t,
			url,
			'/downloads/endpoint/artifacts/raw/model',
			bigModel,
			'application/octet-stream',
		);

		const answer = await getJson<{count: number; versions: Array<{version: string; artifacts: number}>}>(
			url,
			'/api/v1/defend',
		);
		t.is(answer.count, 4);
		t.deepEqual(
			answer.versions.map((entry) => [entry.version, entry.artifacts]),
			[
				['9.2.0', 2],
				['9.1.3', 6],
				['9.0.7', 6],
				['8.19.3', 6],
			],
		);
		const metrics = (await request(url, '/metrics')).text;
		t.true((metricValue(metrics, 'mirror_defend_manifest_age_seconds{version="9.2.0"}') ?? -1) >= 0);
		t.true((metricValue(metrics, 'mirror_defend_requests_total{kind="manifest",status="304"}') ?? 0) >= 4);
		// Artifacts come from blocks shared by every endpoint, not one store read per request.
		t.true((metricValue(metrics, 'mirror_s3_block_cache_hits_total') ?? 0) > 0);
		const page = (await request(url, '/')).text;
		t.regex(page, /4 Elastic Defend versions/);
		t.true(page.includes(`linux.advanced.artifacts.global.base_url: ${url}`));
	},
);

s3Test(
	'a manifest replaced in the bucket while serving is served within seconds, never naming a missing artifact',
	async (t) => {
		const spec = standardDefendVersions.find((v) => v.version === '9.1.3');
		if (!spec) {
			throw new Error('the standard set has 9.1.3');
		}

		const host = await startFakeSecurityHost({versions: [spec]});
		t.teardown(() => host.close());
		const {location} = await withBucket(t);
		await publishDefend(s3Location(location), host, ['9.1.3']);
		const {url} = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
			location: s3Location(location),
			indexRefreshMs: 100,
		});
		const client = endpointClient(url, '9.1.3');
		t.is((await client.poll()).status, 200);
		const before = client.etag();
		t.is((await client.poll()).status, 304);

		await host.publish({
			...spec,
			manifestVersion: '1.0.2440',
			artifacts: [
				...spec.artifacts,
				{
					identifier: 'trustlist-v1',
					content: JSON.stringify({entries: [createHash('sha256').update('x').digest('hex')]}),
				},
			],
		});
		let polls = 0;
		let publishing = true;
		const poller = (async () => {
			while (publishing) {
				await endpointClient(url, '9.1.3').poll();
				polls++;
			}
		})();
		await publishDefend(s3Location(location), host, ['9.1.3']);
		publishing = false;
		await t.notThrowsAsync(poller);
		t.true(polls > 0);

		let seen: Awaited<ReturnType<typeof client.poll>> | undefined;
		t.true(
			await eventually(async () => {
				seen = await client.poll();
				return seen.status === 200;
			}),
		);
		t.like(seen, {status: 200, manifestVersion: '1.0.2440'});
		t.not(client.etag(), before);
		t.is((await client.poll()).status, 304);
		await checkDefendVersion(t, url, host, '9.1.3');
		t.true(
			await eventually(async () => {
				const answer = await getJson<{versions: Array<{manifestVersion: string}>}>(url, '/api/v1/defend');
				return answer.versions[0]?.manifestVersion === '1.0.2440';
			}),
		);
	},
);
