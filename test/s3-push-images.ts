/**
`push-images` from a mirror kept in S3 (Ceph radosgw): the blobs are streamed from
the bucket into a docker-registry, and the pushed index reads back byte for byte.
*/
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {pushMultiPlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {ensureS3, s3Env, s3Server, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';

const registry = await ensureRegistry();
const s3 = await ensureS3();
const s3Test = gatedTest('the S3 push-images test (radosgw, docker-registry)', registry.ok ? s3 : registry, {
	serial: true,
});

s3Test('push-images streams the blobs of an S3 mirror into a registry', async (t) => {
	const upstream = await startRegistry(t);
	const image = await pushMultiPlatform(upstream.url, 'elasticsearch/elasticsearch', '9.1.3');
	const bucket = await withBucket(t);
	const home = await tempDir(t, 'home-');
	const key = await createTestKey();
	const {summary} = await runSync(
		{
			store: bucket.url,
			's3-endpoint': s3Server.endpoint,
			's3-path-style': 'true',
			upstream: 'http://127.0.0.1:9',
			'versions-api': 'http://127.0.0.1:9/v1/versions',
			'trusted-key': [await key.writePublic(await tempDir(t, 'keys-'))],
			'retry-delay': '5',
			timeout: '5',
			images: 'elasticsearch/elasticsearch:9.1.3',
			'image-registry': upstream.url,
		},
		{...s3Env, DOCKER_CONFIG: home, HOME: home},
	);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));

	const destination = await startRegistry(t);
	const result = await runCli(['push-images', '--store', bucket.url, '--to', destination.url], {
		env: {...s3Env, DOCKER_CONFIG: home, HOME: home},
	});
	t.is(result.code, 0, result.stdout + result.stderr);
	t.regex(
		result.stdout,
		new RegExp(`^pushed elasticsearch/elasticsearch:9\\.1\\.3 to .*; ${image.index?.digest}$`, 'm'),
	);
	const index = await fetch(`${destination.url}/v2/elasticsearch/elasticsearch/manifests/9.1.3`, {
		headers: {accept: 'application/vnd.oci.image.index.v1+json'},
	});
	t.true(Buffer.from(await index.arrayBuffer()).equals(image.index?.bytes as Buffer));
	for (const [digest, bytes] of image.blobs) {
		const blob = await fetch(`${destination.url}/v2/elasticsearch/elasticsearch/blobs/${digest}`);
		t.true(Buffer.from(await blob.arrayBuffer()).equals(bytes), digest);
	}
});
