/**
Container images on a mirror in an object store (a real Ceph radosgw, see
test/helpers/s3.ts): sync from Debian's docker-registry into a bucket, verify there,
a damaged blob object repaired by --repair from the registry, prune collecting the
blobs of a dropped tag, and an export from the bucket imported into a directory
mirror, every blob byte-identical to upstream's.
*/

import {mkdtemp, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {GetObjectCommand, HeadObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3';
import test from 'ava';
import {blobPath} from '../src/images/catalog.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {pushMultiPlatform, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const registryReady = await ensureRegistry();
const s3Ready = await ensureS3();
// Both servers are needed: the one missing (the S3 server first) is the reason given.
const s3Test = gatedTest('the S3 image tests', s3Ready.ok ? registryReady : s3Ready, {serial: true});

let keys: string | undefined;
let keyPath: string;
test.before(async () => {
	keys = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
	keyPath = await (await createTestKey()).writePublic(keys);
});
test.after.always(() => (keys ? rm(keys, {recursive: true, force: true}) : undefined));

s3Test('images in a bucket: sync, verify, --repair, prune, and export into a directory mirror', async (t) => {
	const registry = await startRegistry(t);
	const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
	const older = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.2', {
		variant: 'older',
	});
	const single = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
	const bucket = await withBucket(t);
	const home = await tempDir(t);
	const {summary} = await runSync(
		{
			store: bucket.url,
			upstream: 'http://127.0.0.1:9',
			'versions-api': 'http://127.0.0.1:9/v1/versions',
			'trusted-key': [keyPath],
			timeout: '5',
			images: 'elasticsearch/elasticsearch:9.1.3,elasticsearch/elasticsearch:9.1.2,eck/eck-operator:3.2.0',
			'image-registry': registry.url,
		},
		{...s3Env, DOCKER_CONFIG: home, HOME: home},
	);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	const common = ['--store', bucket.url, '--trusted-key', keyPath, '--image-registry', registry.url];
	const clean = await runCli(['verify', ...common], {env: s3Env});
	t.is(clean.code, 0, clean.stdout + clean.stderr);
	t.regex(clean.stdout, /image blobs and tags: 0 problems/);

	const client = testClient();
	t.teardown(() => client.destroy());
	const layer = multi.manifests[0]?.layers[1] as string;
	const good = multi.blobs.get(layer) as Buffer;
	await client.send(
		new PutObjectCommand({
			Bucket: bucket.bucket,
			Key: `mirror/${blobPath(layer)}`,
			Body: Buffer.alloc(good.length),
		}),
	);
	const repaired = await runCli(['verify', '--repair', ...common], {env: s3Env});
	t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
	t.regex(repaired.stdout, /fetched again: elasticsearch\/elasticsearch:9\.1\.3/);
	const object = await client.send(
		new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${blobPath(layer)}`}),
	);
	t.true(Buffer.from((await object.Body?.transformToByteArray()) ?? []).equals(good));

	const pruned = await runCli(['prune', '--store', bucket.url, '--keep-image-tags', '1', '--yes'], {
		env: s3Env,
	});
	t.is(pruned.code, 0, pruned.stdout + pruned.stderr);
	t.regex(pruned.stdout, /removed tag elasticsearch\/elasticsearch:9\.1\.2/);
	const gone = older.index?.digest as string;
	await t.throwsAsync(
		client.send(new HeadObjectCommand({Bucket: bucket.bucket, Key: `mirror/${blobPath(gone)}`})),
	);

	const bundle = path.join(await tempDir(t), 'images.tar');
	const exported = await runCli(['export', '--store', bucket.url, '--out', bundle], {env: s3Env});
	t.is(exported.code, 0, exported.stdout + exported.stderr);
	t.regex(exported.stdout, /2 image tags and 11 image blobs/);
	const target = await tempDir(t);
	const imported = await runCli(['import', '--dir', target, '--trusted-key', keyPath, bundle]);
	t.is(imported.code, 0, imported.stdout + imported.stderr);
	t.regex(imported.stdout, /imported images: 2 tags published, 0 already present; 11 blobs published/);
	for (const image of [multi, single]) {
		for (const [digest, bytes] of image.blobs) {
			t.true((await readFile(path.join(target, blobPath(digest)))).equals(bytes), digest);
		}

		for (const manifest of [...(image.index ? [image.index] : []), ...image.manifests]) {
			t.true((await readFile(path.join(target, blobPath(manifest.digest)))).equals(manifest.bytes));
		}
	}

	const verify = await runCli(['verify', '--dir', target, '--trusted-key', keyPath]);
	t.is(verify.code, 0, verify.stdout + verify.stderr);
});
