/**
The day-2 commands on a mirror in an object store (a real Ceph radosgw, see
test/helpers/s3.ts): verify and repair, prune, export and import, through the CLI.
*/
import {createHash} from 'node:crypto';
import {readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {
	DeleteObjectCommand,
	GetObjectCommand,
	ListObjectsV2Command,
	PutObjectCommand,
	type S3Client,
} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags, toArgs} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {treeContents} from './helpers/tree.js';
import {type WithUpstream, withUpstream} from './helpers/with-upstream.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 maintenance tests', await ensureS3(), {serial: true});

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const platforms = 'linux-x86_64,windows-x86_64';
const tar = (version: string) => `downloads/beats/elastic-agent/elastic-agent-${version}-linux-x86_64.tar.gz`;
const zip = (version: string) => `downloads/beats/elastic-agent/elastic-agent-${version}-windows-x86_64.zip`;

/** A bucket synced with `versions` from a fake upstream, and a client to look into it. */
async function syncedBucket(t: ExecutionContext, versions: string[]) {
	const setup = await withUpstream(t, key, {versions, platforms: platforms.split(','), size: 64 * 1024});
	const bucket = await withBucket(t);
	const client = testClient();
	t.teardown(() => client.destroy());
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
			versions: versions.join(','),
			platforms,
			store: bucket.url,
		}),
		s3Env,
	);
	t.is(summary.result, 'success');
	return {...setup, ...bucket, client};
}

/** Every key under `prefix` with its bytes. */
async function objects(client: S3Client, bucket: string, prefix: string): Promise<Map<string, Buffer>> {
	const found = new Map<string, Buffer>();
	const listed = await client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix}));
	for (const object of listed.Contents ?? []) {
		const got = await client.send(new GetObjectCommand({Bucket: bucket, Key: object.Key}));
		found.set(
			(object.Key ?? '').slice(prefix.length),
			Buffer.from((await got.Body?.transformToByteArray()) ?? []),
		);
	}

	return found;
}

/** The served tree of a bucket prefix: what the server would serve (no `.mirror/`). */
async function servedTree(client: S3Client, bucket: string, prefix: string) {
	const all = await objects(client, bucket, prefix);
	return new Map([...all].filter(([name]) => !name.startsWith('.mirror/')));
}

function verifyArgs(setup: WithUpstream & {url: string}, ...extra: string[]) {
	return [
		'verify',
		...toArgs({
			store: setup.url,
			'trusted-key': setup.keyPath,
			upstream: setup.upstream.url,
			'retry-delay': '5',
			timeout: '5',
		}),
		...extra,
	];
}

s3Test(
	'verify on a bucket finds a changed object, a bad sidecar and a missing signature; --repair fetches them again',
	async (t) => {
		const mirror = await syncedBucket(t, ['9.1.2', '9.1.3']);
		const put = (relative: string, body: Buffer | string) =>
			mirror.client.send(
				new PutObjectCommand({Bucket: mirror.bucket, Key: `mirror/${relative}`, Body: body}),
			);

		const clean = await runCli(verifyArgs(mirror), {env: s3Env});
		t.is(clean.code, 0, clean.stderr);
		t.regex(clean.stdout, /verified 6 files: 0 problems/);

		// Same size, one byte different: only the hash can tell.
		const original = mirror.upstream.files.get(tar('9.1.3')) as Buffer;
		const changed = Buffer.from(original);
		changed.writeUInt8((changed.readUInt8(100) + 1) % 256, 100);
		await put(tar('9.1.3'), changed);
		await put(`${zip('9.1.2')}.sha512`, `${'0'.repeat(128)}  ${path.posix.basename(zip('9.1.2'))}\n`);
		await mirror.client.send(
			new DeleteObjectCommand({Bucket: mirror.bucket, Key: `mirror/${tar('9.1.2')}.asc`}),
		);

		const found = await runCli(verifyArgs(mirror), {env: s3Env});
		t.is(found.code, 1, found.stderr);
		t.regex(found.stdout, new RegExp(`bad: ${tar('9.1.2')}: \\.asc is missing`));
		t.regex(found.stdout, new RegExp(`bad: ${zip('9.1.2')}: \\.sha512 does not match the file`));
		t.regex(found.stdout, new RegExp(`bad: ${tar('9.1.3')}: sha512 differs from the manifest`));
		t.regex(found.stdout, /verified 6 files: 3 problems/);

		// The upstream lost one of them meanwhile: it stays in quarantine, under the hidden state.
		mirror.upstream.files.delete(zip('9.1.2'));
		const repaired = await runCli(verifyArgs(mirror, '--repair'), {env: s3Env});
		t.is(repaired.code, 1, repaired.stderr);
		t.regex(repaired.stdout, /3 problems, 2 repaired, 1 quarantined/);
		t.regex(
			repaired.stdout,
			new RegExp(
				`quarantined: ${zip('9.1.2')} \\(could not fetch it again; moved to s3://${mirror.bucket}/mirror/\\.mirror/quarantine/`,
			),
		);

		const after = await objects(mirror.client, mirror.bucket, 'mirror/');
		t.true(after.get(tar('9.1.3'))?.equals(original), 'the changed object is the upstream bytes again');
		t.truthy(after.get(`${tar('9.1.2')}.asc`), 'the signature is back');
		for (const file of [zip('9.1.2'), `${zip('9.1.2')}.sha512`, `${zip('9.1.2')}.asc`]) {
			t.false(after.has(file), `${file} left the served tree`);
		}

		const quarantined = [...after.keys()].filter((name) => name.startsWith('.mirror/quarantine/'));
		t.deepEqual(
			quarantined.map((name) => name.split('/').slice(3).join('/')).sort(),
			[zip('9.1.2'), `${zip('9.1.2')}.asc`, `${zip('9.1.2')}.sha512`],
			'only what could not be fetched again stays in quarantine',
		);

		const again = await runCli(verifyArgs(mirror), {env: s3Env});
		t.is(again.code, 0, again.stdout);
		t.regex(again.stdout, /verified 5 files: 0 problems/);
	},
);

s3Test(
	'prune on a bucket deletes exactly the planned artifacts with their sidecars, and keeps keys',
	async (t) => {
		const mirror = await syncedBucket(t, ['9.1.2', '9.1.3']);
		const args = ['prune', '--store', mirror.url, '--keep-latest', '1'];
		const before = await objects(mirror.client, mirror.bucket, 'mirror/');

		const dry = await runCli(args, {env: s3Env});
		t.is(dry.code, 0, dry.stderr);
		t.regex(
			dry.stdout,
			new RegExp(`would delete ${tar('9.1.2')} \\([^)]+\\): older than the newest 1 of elastic-agent 9\\.1`),
		);
		t.deepEqual(
			[...(await objects(mirror.client, mirror.bucket, 'mirror/')).keys()].sort(),
			[...before.keys()].sort(),
		);

		const done = await runCli([...args, '--yes'], {env: s3Env});
		t.is(done.code, 0, done.stderr);
		t.regex(done.stdout, /deleted 2 artifacts with their sidecars/);
		const after = await objects(mirror.client, mirror.bucket, 'mirror/');
		const gone = [...before.keys()]
			.filter((name) => !after.has(name) && name !== '.mirror/status.json')
			.sort();
		t.deepEqual(
			gone,
			[
				tar('9.1.2'),
				`${tar('9.1.2')}.asc`,
				`${tar('9.1.2')}.sha512`,
				zip('9.1.2'),
				`${zip('9.1.2')}.asc`,
				`${zip('9.1.2')}.sha512`,
			].sort(),
		);
		t.true(after.has('GPG-KEY-elastic-agent'));
		const manifest = JSON.parse(after.get('.mirror/manifest.json')?.toString('utf8') ?? '{}') as {
			files: Record<string, unknown>;
		};
		t.deepEqual(Object.keys(manifest.files).sort(), [tar('9.1.3'), zip('9.1.3')]);
		t.false(after.has('.mirror/sync.lock'), 'the lock is released');
	},
);

s3Test(
	'export from a bucket, import into a directory and into another bucket: identical trees, verified',
	async (t) => {
		const mirror = await syncedBucket(t, ['9.1.2', '9.1.3']);
		const work = await tempDir(t);
		const bundle = path.join(work, 'bundle.tar');
		const exported = await runCli(['export', '--store', mirror.url, '--out', bundle], {env: s3Env});
		t.is(exported.code, 0, exported.stderr);
		t.regex(exported.stdout, /exported 4 artifacts \(14 files/);

		const source = await servedTree(mirror.client, mirror.bucket, 'mirror/');
		const dir = path.join(work, 'mirror');
		const intoDir = await runCli(['import', '--dir', dir, '--trusted-key', mirror.keyPath, bundle], {
			env: s3Env,
		});
		t.is(intoDir.code, 0, intoDir.stderr);
		const tree = await treeContents(dir);
		t.deepEqual([...tree.keys()].sort(), [...source.keys()].sort());
		for (const [name, bytes] of source) {
			t.true(tree.get(name)?.equals(bytes), name);
		}

		// Another bucket: the air-gapped side keeps its mirror in an object store too.
		const other = await withBucket(t, 'airgap/');
		const importArgs = ['import', '--store', other.url, '--trusted-key', mirror.keyPath, bundle];
		const intoBucket = await runCli(importArgs, {env: s3Env});
		t.is(intoBucket.code, 0, intoBucket.stderr);
		t.regex(intoBucket.stdout, /imported: 4 artifacts published/);
		const imported = await servedTree(mirror.client, other.bucket, 'airgap/');
		t.deepEqual([...imported.keys()].sort(), [...source.keys()].sort());
		for (const [name, bytes] of source) {
			t.true(imported.get(name)?.equals(bytes), name);
		}

		const artifact = await mirror.client.send(
			new GetObjectCommand({Bucket: other.bucket, Key: `airgap/${tar('9.1.3')}`}),
		);
		await artifact.Body?.transformToByteArray();
		t.is(
			artifact.Metadata?.sha512,
			createHash('sha512')
				.update(source.get(tar('9.1.3')) as Buffer)
				.digest('hex'),
			'the server reads the verified sha512 from the metadata, as after a sync',
		);
		t.is(
			artifact.Metadata?.['upstream-modified'],
			'2026-01-15T10:00:00.000Z',
			"upstream's date travels in the bundle",
		);

		const again = await runCli(importArgs, {env: s3Env});
		t.regex(again.stdout, /imported: 0 artifacts published .*4 already present/);
		const verified = await runCli(['verify', '--store', other.url, '--trusted-key', mirror.keyPath], {
			env: s3Env,
		});
		t.is(verified.code, 0, verified.stdout);
		t.regex(verified.stdout, /verified 6 files: 0 problems/);

		// Since the export: nothing new.
		const since = await runCli(
			['export', '--store', mirror.url, '--out', path.join(work, 'delta.tar'), '--since', 'last'],
			{env: s3Env},
		);
		// Issue 14 item 19: nothing new is not a failure.
		t.is(since.code, 0, since.stderr);
		t.regex(since.stdout, /nothing new since \S+: no bundle written/);
	},
);

s3Test('a tampered bundle imported into a bucket publishes nothing', async (t) => {
	const mirror = await syncedBucket(t, ['9.1.3']);
	const work = await tempDir(t);
	const bundle = path.join(work, 'bundle.tar');
	t.is((await runCli(['export', '--store', mirror.url, '--out', bundle], {env: s3Env})).code, 0);
	const bytes = await readFile(bundle);
	// Flip a byte inside an artifact's data in the tar.
	const artifact = mirror.upstream.files.get(tar('9.1.3')) as Buffer;
	const at = bytes.indexOf(artifact.subarray(1000, 1064)) + 10;
	t.true(at > 10);
	bytes.writeUInt8((bytes.readUInt8(at) + 1) % 256, at);
	await writeFile(bundle, bytes);

	const other = await withBucket(t, 'airgap/');
	const refused = await runCli(['import', '--store', other.url, '--trusted-key', mirror.keyPath, bundle], {
		env: s3Env,
	});
	t.is(refused.code, 1, refused.stdout);
	t.regex(refused.stderr, /do not match the bundle manifest|truncated or damaged/);
	const left = await objects(mirror.client, other.bucket, 'airgap/');
	t.deepEqual([...left.keys()], [], 'not one object, not even a lock');
	await rm(bundle);
});

s3Test(
	'verify on a bucket reports an object put there by hand; --repair leaves it and still exits 1',
	async (t) => {
		const mirror = await syncedBucket(t, ['9.1.3']);
		const stray = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz.bak';
		await mirror.client.send(
			new PutObjectCommand({Bucket: mirror.bucket, Key: `mirror/${stray}`, Body: 'dropped by hand'}),
		);
		const found = await runCli(verifyArgs(mirror), {env: s3Env});
		t.is(found.code, 1, found.stdout + found.stderr);
		t.regex(
			found.stdout,
			new RegExp(`bad: ${stray.replaceAll('.', '\\.')}: unknown file, not in the manifest`),
		);
		t.regex(found.stdout, /1 problems/);

		const repair = await runCli(verifyArgs(mirror, '--repair'), {env: s3Env});
		t.is(repair.code, 1, repair.stdout + repair.stderr);
		t.true((await servedTree(mirror.client, mirror.bucket, 'mirror/')).has(stray), 'repair removed it');
	},
);
