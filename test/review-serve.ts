/**
Review of how `/v2/` serves images, against the distribution spec and what real
clients do: edge cases found by reading src/server/oci/ (each test names the client
behaviour it stands for). Images come from Debian's docker-registry through a real
`sync --images`; the object-store cases use the test radosgw.
*/
import test from 'ava';
import {s3Location} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {type PushedImage, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runSync} from './helpers/run.js';
import {ensureS3, s3Env, withBucket} from './helpers/s3.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const registryReady = await ensureRegistry();
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
