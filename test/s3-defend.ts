/**
Elastic Defend protections on a mirror in an object store (a real Ceph radosgw, see
test/helpers/s3.ts): a bundle imported into a bucket and exported back (same
entries, same bytes), verify in the bucket (files downloaded to the local temp
folder to check), and --repair taking a bad artifact out with the manifests naming
it.
*/
import {GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3';
import type {ExecutionContext} from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {loadVerifyConfig} from '../src/config/index.js';
import {verifyMirror} from '../src/maintain/verify.js';
import {layout} from '../src/store/layout.js';
import {dirLocation, s3Location} from '../src/store/location.js';
import {type Manifest, readManifest} from '../src/store/manifest.js';
import {openStore} from '../src/store/open.js';
import {publishDefendVersions} from './helpers/defend-store.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {gatedTest} from './helpers/gate.js';
import {runCli} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 Defend tests', await ensureS3(), {serial: true});

const good = ['8.19.3', '9.0.7', '9.1.3'];

async function host(t: ExecutionContext): Promise<FakeSecurityHost> {
	const started = await startFakeSecurityHost({
		versions: standardDefendVersions.filter((version) => good.includes(version.version)),
	});
	t.teardown(() => started.close());
	return started;
}

async function bucketManifest(
	t: ExecutionContext,
	location: ReturnType<typeof s3Location>,
): Promise<Manifest> {
	const store = await openStore({location});
	t.teardown(() => store.close());
	return (await store.readManifest()).manifest as Manifest;
}

/** The Defend section without the times each mirror stamps itself. */
function defendEntries(manifest: Manifest) {
	const strip = <T extends {publishedAt: string}>(record: Record<string, T>) =>
		Object.fromEntries(Object.entries(record).map(([key, {publishedAt: _, ...rest}]) => [key, rest]));
	return {versions: strip(manifest.defend.versions), artifacts: strip(manifest.defend.artifacts)};
}

s3Test('a Defend bundle imported into a bucket and exported back: same entries, same bytes', async (t) => {
	const upstream = await host(t);
	const source = await tempDir(t);
	await publishDefendVersions(dirLocation(source), upstream, good);
	const work = await tempDir(t);
	const bundle = `${work}/bundle.tar`;
	await exportBundle({location: dirLocation(source), out: bundle, selection: {}});

	const bucket = await withBucket(t);
	const location = s3Location(bucket.location);
	const imported = await importBundle({location, input: concatParts([bundle]), trustedKeyPaths: []});
	const {manifest: from} = await readManifest(layout(source));
	const artifacts = Object.keys(from.defend.artifacts).length;
	t.deepEqual(imported.defend, {
		versions: {published: 3, present: 0},
		artifacts: {published: artifacts, present: 0},
	});
	t.deepEqual(defendEntries(await bucketManifest(t, location)), defendEntries(from));

	const client = testClient();
	t.teardown(() => client.destroy());
	for (const version of good) {
		for (const file of upstream.filesOf(version)) {
			const got = await client.send(new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${file}`}));
			const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
			t.true(bytes.equals(upstream.file(file) as Buffer), file);
		}
	}

	const again = await importBundle({location, input: concatParts([bundle]), trustedKeyPaths: []});
	t.deepEqual(again.defend, {
		versions: {published: 0, present: 3},
		artifacts: {published: 0, present: artifacts},
	});

	const back = `${work}/back.tar`;
	const exported = await runCli(
		['export', '--store', bucket.url, '--out', back, '--defend-artifacts', '9.1.3'],
		{
			env: s3Env,
		},
	);
	t.is(exported.code, 0, exported.stderr);
	t.regex(exported.stdout, /exported 0 artifacts, 1 Defend manifests and 6 Defend artifacts \(7 files/);
	const target = await tempDir(t);
	await importBundle({location: dirLocation(target), input: concatParts([back]), trustedKeyPaths: []});
	const expected = new Map(upstream.filesOf('9.1.3').map((file) => [file, upstream.file(file) as Buffer]));
	const got = new Map([...(await treeContents(target))].filter(([file]) => file.startsWith('downloads/')));
	t.true(sameTree(expected, got));
});

s3Test(
	'verify checks Defend files in a bucket; --repair takes a bad artifact out with the manifests naming it',
	async (t) => {
		const upstream = await host(t);
		const bucket = await withBucket(t);
		const location = s3Location(bucket.location);
		await publishDefendVersions(location, upstream, good);
		const clean = await runCli(['verify', '--store', bucket.url], {env: s3Env});
		t.is(clean.code, 0, clean.stdout + clean.stderr);
		const files = 3 + Object.keys((await bucketManifest(t, location)).defend.artifacts).length;
		t.regex(clean.stdout, new RegExp(`verified 0 files and ${files} Defend files: 0 problems`));

		// Same size, other bytes, in the model 9.0.7 and 9.1.3 share.
		const model = upstream.filesOf('9.1.3').find((file) => file.includes('model')) as string;
		const spoiled = Buffer.from(upstream.file(model) as Buffer);
		spoiled[10] = (spoiled[10] ?? 0) ^ 0xff;
		const client = testClient();
		t.teardown(() => client.destroy());
		await client.send(new PutObjectCommand({Bucket: bucket.bucket, Key: `mirror/${model}`, Body: spoiled}));
		const found = await runCli(['verify', '--store', bucket.url], {env: s3Env});
		t.is(found.code, 1);
		t.regex(found.stdout, new RegExp(`bad: ${model}: sha512 differs from the manifest`));

		const config = loadVerifyConfig({
			flags: {store: bucket.url, repair: true} as never,
			env: s3Env,
			cwd: process.cwd(),
		});
		const asked: string[][] = [];
		const report = await verifyMirror({
			...config,
			refetch: async (_refs, _packages, _emit, defendVersions) => {
				asked.push([...defendVersions]);
				throw new Error('upstream unreachable');
			},
		});
		t.deepEqual(asked, [['9.0.7', '9.1.3']]);
		t.deepEqual(
			report.quarantinedDefend,
			[
				model,
				'downloads/endpoint/manifest/artifacts-9.0.7.zip',
				'downloads/endpoint/manifest/artifacts-9.1.3.zip',
			].sort(),
		);
		t.regex(report.quarantineDir ?? '', /^s3:\/\//);
		const manifest = await bucketManifest(t, location);
		t.deepEqual(Object.keys(manifest.defend.versions), ['8.19.3']);
		t.false(model in manifest.defend.artifacts);
		const after = await runCli(['verify', '--store', bucket.url], {env: s3Env});
		t.is(after.code, 0, after.stdout);
	},
);
