/**
Edge cases of how `/v2/` serves images, against the distribution spec and what real
clients do (each test names the client behaviour it stands for). Images come from Debian's docker-registry through a real
`sync --images`; the object-store cases use the test radosgw.
*/
import {utimes} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import test from 'ava';
import {blobPath} from '../src/images/catalog.js';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {type PushedImage, pushManifest, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runSync} from './helpers/run.js';
import {ensureS3, s3Env, withBucket} from './helpers/s3.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const registryReady = await ensureRegistry();
const gated = gatedTest('the image serving review tests (docker-registry)', registryReady);
const s3Test = gatedTest(
	'the S3 image serving review tests (docker-registry, radosgw)',
	registryReady.ok ? await ensureS3() : registryReady,
	{serial: true},
);

const shared = sharedTeardown();
test.after.always(() => shared.run());

type Filled = {image: PushedImage; bucket: Awaited<ReturnType<typeof withBucket>>};
let filled: Promise<Filled> | undefined;

/** One registry and one bucket for the file, filled once by a real sync. */
function fillBucket(): Promise<Filled> {
	filled ??= (async () => {
		const registry = await startRegistry(shared);
		const image = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const bucket = await withBucket(shared);
		const dir = await tempDir(shared, 'mirror-review-serve-');
		const {summary} = await runSync(
			{
				dir,
				store: bucket.url,
				upstream: 'http://127.0.0.1:9',
				'versions-api': 'http://127.0.0.1:9/v1/versions',
				'retry-delay': '5',
				timeout: '5',
				images: 'eck/eck-operator:3.2.0',
				'image-registry': registry.url,
			},
			{...s3Env, DOCKER_CONFIG: dir, HOME: dir},
		);
		if (summary.result !== 'success') {
			throw new Error(`image sync into the bucket failed: ${JSON.stringify(summary.failed)}`);
		}

		return {image, bucket};
	})();
	return filled;
}

// A pull-through cache in front of the mirror (distribution's proxy mode Stats a remote
// blob with HEAD before fetching it; regclient and `crane blob` HEAD too) follows a 307
// with HEAD: a URL presigned for GET answers that with 403, so the blob looked missing.
s3Test('with --s3-redirect, HEAD of a blob answers its size and digest itself', async (t) => {
	const {image, bucket} = await fillBucket();
	const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
		location: s3Location(bucket.location),
		indexRefreshMs: 100,
		s3Redirect: true,
	});
	const [digest, bytes] = [...image.blobs][0] ?? [];
	const url = `${server.url}/v2/eck/eck-operator/blobs/${digest}`;
	const head = await fetch(url, {method: 'HEAD'});
	t.is(head.status, 200);
	t.is(head.headers.get('docker-content-digest'), digest ?? '');
	t.is(head.headers.get('content-length'), String(bytes?.length));
	// GET still goes to the store.
	const get = await fetch(url, {redirect: 'manual'});
	t.is(get.status, 307);
	t.true(
		Buffer.from(await (await fetch(get.headers.get('location') ?? '')).arrayBuffer()).equals(
			bytes ?? Buffer.alloc(1),
		),
	);
});

/** A GET with exactly `headers` (fetch would add its own). */
function plainGet(
	url: string,
	headers: Record<string, string>,
): Promise<{status: number; headers: http.IncomingHttpHeaders; body: Buffer}> {
	return new Promise((resolve, reject) => {
		http
			.get(url, {headers}, (response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('end', () =>
					resolve({status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks)}),
				);
				response.on('error', reject);
			})
			.on('error', reject);
	});
}

/** `sync --images list` from `registry` into `dir` (no real credentials read). */
async function syncDir(dir: string, registry: string, list: string): Promise<void> {
	const {summary} = await runSync(
		{
			dir,
			upstream: 'http://127.0.0.1:9',
			'versions-api': 'http://127.0.0.1:9/v1/versions',
			'no-verify': true,
			'retry-delay': '5',
			timeout: '5',
			images: list,
			'image-registry': registry,
		},
		{DOCKER_CONFIG: dir, HOME: dir},
	);
	if (summary.result !== 'success') {
		throw new Error(`image sync failed: ${JSON.stringify(summary.failed)}`);
	}
}

// A tag's answer changes when the tag moves, but its Last-Modified is the date of the
// manifest file it points to now, which may be older (a tag moved back to a manifest
// the mirror already held). A client or cache revalidating with If-Modified-Since
// alone must not be told 304 and keep the old manifest.
gated('a moved tag is not answered 304 to If-Modified-Since', async (t) => {
	const registry = await startRegistry(t);
	const first = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
	const older = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.1.0', 'linux/amd64', {
		variant: 'older',
	});
	const dir = await tempDir(t, 'mirror-review-moved-');
	await syncDir(dir, registry.url, 'eck/eck-operator:3.2.0,eck/eck-operator:3.1.0');
	const olderManifest = older.manifests[0];
	if (!olderManifest) throw new Error('no manifest');
	// The manifest 3.1.0 names was stored long ago.
	const past = new Date('2020-01-01T00:00:00Z');
	await utimes(path.join(dir, blobPath(olderManifest.digest)), past, past);
	const server = await withServer(t, dir);
	const url = `${server.url}/v2/eck/eck-operator/manifests/3.2.0`;
	const before = await fetch(url);
	t.is(before.headers.get('docker-content-digest'), first.manifests[0]?.digest ?? '');
	await before.arrayBuffer();
	const lastModified = before.headers.get('last-modified') ?? '';

	// Upstream moves 3.2.0 back to the older manifest; the mirror follows.
	await pushManifest(registry.url, 'eck/eck-operator', '3.2.0', olderManifest);
	await syncDir(dir, registry.url, 'eck/eck-operator:3.2.0,eck/eck-operator:3.1.0');
	// node:http, since fetch adds Cache-Control: no-cache to a conditional request.
	const after = await plainGet(url, {'If-Modified-Since': lastModified});
	t.is(after.status, 200);
	t.is(after.headers['docker-content-digest'], olderManifest.digest);
	t.true(after.body.equals(olderManifest.bytes));
});
