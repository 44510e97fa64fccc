/**
Integration packages on a mirror in an object store (a real Ceph radosgw, see
test/helpers/s3.ts): a bundle of package versions imported into a bucket and
exported back, verify and verify --repair at rest in the bucket, and package-paths
from the bucket.
*/

import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {layout} from '../src/store/layout.js';
import {dirLocation, s3Location} from '../src/store/location.js';
import {type PackageEntry, readManifest} from '../src/store/manifest.js';
import {openStore} from '../src/store/open.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {
	type BuiltPackage,
	buildPackage,
	type MirrorablePackage,
	publishPackages,
} from './helpers/package-mirror.js';
import {runCli} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 package tests', await ensureS3(), {serial: true});

let key: TestKey;
let packages: BuiltPackage[];
test.before(async () => {
	key = await createTestKey();
	packages = await Promise.all([
		buildPackage(key, {name: 'nginx', version: '1.20.0'}),
		buildPackage(key, {
			name: 'nginx',
			version: '1.21.0',
			requires: {content: [{package: 'nginx_dashboards', version: '>=0.1.0'}]},
		}),
		buildPackage(key, {name: 'nginx_dashboards', version: '0.1.0', type: 'content'}),
	]);
});

/** Entries without the publishing time, which each mirror stamps itself. */
function entries(packagesOf: Record<string, PackageEntry>) {
	return Object.fromEntries(
		Object.entries(packagesOf).map(([file, {publishedAt: _, ...entry}]) => [file, entry]),
	);
}

async function bucketManifest(t: ExecutionContext, location: ReturnType<typeof s3Location>) {
	const store = await openStore({location});
	t.teardown(() => store.close());
	return (await store.readManifest()).manifest;
}

s3Test(
	'a bundle of package versions imported into a bucket and exported back: same entries, same bytes',
	async (t) => {
		const source = await tempDir(t);
		const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
		await publishPackages(dirLocation(source), packages);
		const work = await tempDir(t);
		const bundle = path.join(work, 'bundle.tar');
		await exportBundle({location: dirLocation(source), out: bundle, selection: {}});

		const bucket = await withBucket(t);
		const location = s3Location(bucket.location);
		const imported = await importBundle({location, input: concatParts([bundle]), trustedKeyPaths: [keyPath]});
		t.deepEqual(imported.packages, {published: 3, present: 0});
		const {manifest: from} = await readManifest(layout(source));
		t.deepEqual(entries((await bucketManifest(t, location)).packages), entries(from.packages));

		const client = testClient();
		t.teardown(() => client.destroy());
		for (const [file, bytes] of await treeContents(source)) {
			const got = await client.send(new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${file}`}));
			t.true(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(bytes), file);
		}

		const again = await importBundle({location, input: concatParts([bundle]), trustedKeyPaths: [keyPath]});
		t.deepEqual(again.packages, {published: 0, present: 3});

		const back = path.join(work, 'back.tar');
		const exported = await runCli(
			['export', '--store', bucket.url, '--out', back, '--packages', 'nginx@1.21.0'],
			{
				env: s3Env,
			},
		);
		t.is(exported.code, 0, exported.stderr);
		t.regex(exported.stdout, /exported 0 artifacts and 2 package versions \(6 files/);
		const target = await tempDir(t);
		await importBundle({
			location: dirLocation(target),
			input: concatParts([back]),
			trustedKeyPaths: [keyPath],
		});
		const expected = new Map([...(await treeContents(source))].filter(([file]) => !file.includes('1.20.0')));
		t.true(sameTree(expected, await treeContents(target)));
	},
);

s3Test(
	'verify checks package versions in a bucket; --repair quarantines a bad one; package-paths reads the bucket',
	async (t) => {
		const bucket = await withBucket(t);
		const location = s3Location(bucket.location);
		const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
		await publishPackages(location, packages);
		const verify = (...extra: string[]) =>
			// The registry a repair asks is a closed loopback port: the bad version stays in quarantine.
			runCli(
				[
					'verify',
					...['--store', bucket.url, '--trusted-key', keyPath],
					...['--registry', 'http://127.0.0.1:9', '--retries', '0'],
					...extra,
				],
				{env: s3Env},
			);
		const clean = await verify();
		t.is(clean.code, 0, clean.stdout + clean.stderr);
		t.regex(clean.stdout, /verified 0 files and 3 package versions: 0 problems/);

		const out = path.join(await tempDir(t), 'packages');
		const written = await runCli(['package-paths', '--store', bucket.url, '--out', out], {env: s3Env});
		t.is(written.code, 0, written.stderr);
		t.is((await readdir(out)).length, 6);
		t.true(
			(await readFile(path.join(out, 'nginx-1.21.0.zip'))).equals((packages[1] as MirrorablePackage).zip),
		);

		// Same size, other bytes: only the hash can tell.
		const client = testClient();
		t.teardown(() => client.destroy());
		const spoiled = Buffer.from((packages[0] as MirrorablePackage).zip);
		spoiled.writeUInt8((spoiled.readUInt8(10) + 1) % 256, 10);
		await client.send(
			new PutObjectCommand({Bucket: bucket.bucket, Key: 'mirror/epr/nginx/nginx-1.20.0.zip', Body: spoiled}),
		);
		const found = await verify();
		t.is(found.code, 1);
		t.regex(found.stdout, /bad: epr\/nginx\/nginx-1\.20\.0\.zip: sha512 differs from the manifest/);

		const repaired = await verify('--repair');
		t.is(repaired.code, 1);
		t.regex(
			repaired.stdout,
			/quarantined: epr\/nginx\/nginx-1\.20\.0\.zip with its signature and info \(could not fetch it again; moved to s3:\/\/.*\)/,
		);
		t.deepEqual(Object.keys((await bucketManifest(t, location)).packages).sort(), [
			'epr/nginx/nginx-1.21.0.zip',
			'epr/nginx_dashboards/nginx_dashboards-0.1.0.zip',
		]);
		const after = await verify();
		t.is(after.code, 0, after.stdout);
	},
);
