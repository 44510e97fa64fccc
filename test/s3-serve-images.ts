/**
The mirror's `/v2/` from an object store (a real Ceph radosgw, see test/helpers/s3.ts):
images synced from Debian's docker-registry into a bucket, served from it, copied by
skopeo byte for byte (streamed, and with `--s3-redirect` through 307s to presigned
URLs), and a blob read by range.
*/
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import type {ServeConfig} from '../src/config/index.js';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {type PushedImage, pushMultiPlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runSync} from './helpers/run.js';
import {ensureS3, s3Env, withBucket} from './helpers/s3.js';
import {layoutBlobs, skopeo} from './helpers/skopeo.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const registryReady = await ensureRegistry();
const s3Ready = await ensureS3();
const s3Test = gatedTest(
	'the S3 image serving tests (docker-registry, skopeo, radosgw)',
	registryReady.ok ? s3Ready : registryReady,
	{serial: true},
);

const shared = sharedTeardown();
test.after.always(() => shared.run());

type Filled = {image: PushedImage; bucket: Awaited<ReturnType<typeof withBucket>>};
let filled: Promise<Filled> | undefined;

/** One registry and one bucket for the file, filled once by a real sync. */
function fill(): Promise<Filled> {
	filled ??= (async () => {
		const registry = await startRegistry(shared);
		const image = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const bucket = await withBucket(shared);
		const dir = await tempDir(shared, 'mirror-s3-images-');
		const {summary} = await runSync(
			{
				dir,
				store: bucket.url,
				upstream: 'http://127.0.0.1:9',
				'versions-api': 'http://127.0.0.1:9/v1/versions',
				'retry-delay': '5',
				timeout: '5',
				images: 'elasticsearch/elasticsearch:9.1.3',
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

async function serve(t: ExecutionContext, overrides: Partial<ServeConfig> = {}) {
	const {bucket} = await fill();
	return withServer(t, '/nonexistent-dir-unused-with-a-store', {
		location: s3Location(bucket.location),
		indexRefreshMs: 100,
		containerRepository: 'elastic',
		...overrides,
	});
}

async function copyAll(t: ExecutionContext, host: string, reference: string): Promise<void> {
	const {image} = await fill();
	const out = path.join(await tempDir(t, 'mirror-oci-'), 'layout');
	const outcome = await skopeo(t, [
		'copy',
		'--all',
		'--preserve-digests',
		'--src-tls-verify=false',
		`docker://${host}/${reference}`,
		`oci:${out}:9.1.3`,
	]);
	t.is(outcome.code, 0, outcome.stderr);
	const expected = new Map(image.blobs);
	for (const manifest of [...(image.index ? [image.index] : []), ...image.manifests]) {
		expected.set(manifest.digest, manifest.bytes);
	}

	const copied = await layoutBlobs(out);
	t.is(copied.size, expected.size);
	for (const [digest, bytes] of copied) {
		t.true(expected.get(digest)?.equals(bytes), digest);
	}
}

s3Test('served from a bucket: skopeo copies byte for byte, a blob reads by range', async (t) => {
	const {image} = await fill();
	const server = await serve(t);
	const host = new URL(server.url).host;
	await copyAll(t, host, 'elasticsearch/elasticsearch:9.1.3');
	await copyAll(t, host, 'elastic/elasticsearch:9.1.3');
	const [digest, bytes] = [...image.blobs].find(([, each]) => each.length > 16) ?? [];
	const ranged = await fetch(`${server.url}/v2/elasticsearch/elasticsearch/blobs/${digest}`, {
		headers: {Range: 'bytes=4-15'},
	});
	t.is(ranged.status, 206);
	t.is(ranged.headers.get('docker-content-digest'), digest ?? '');
	t.true(Buffer.from(await ranged.arrayBuffer()).equals(bytes?.subarray(4, 16) ?? Buffer.alloc(1)));
	const manifest = await fetch(`${server.url}/v2/elastic/elasticsearch/manifests/9.1.3`);
	t.is(manifest.status, 200);
	t.true(Buffer.from(await manifest.arrayBuffer()).equals(image.index?.bytes ?? Buffer.alloc(1)));
});

s3Test('with --s3-redirect, blobs answer 307 to the store and skopeo follows', async (t) => {
	const {image} = await fill();
	const server = await serve(t, {s3Redirect: true});
	const [digest, bytes] = [...image.blobs][0] ?? [];
	const redirect = await fetch(`${server.url}/v2/elasticsearch/elasticsearch/blobs/${digest}`, {
		redirect: 'manual',
	});
	t.is(redirect.status, 307);
	t.is(redirect.headers.get('docker-content-digest'), digest ?? '');
	const location = redirect.headers.get('location') ?? '';
	t.true(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(bytes ?? Buffer.alloc(1)));
	await copyAll(t, new URL(server.url).host, 'elastic/elasticsearch:9.1.3');
});
