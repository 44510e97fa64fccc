/**
`sync --defend-artifacts`: against the fake security host of test/helpers, into a
temp mirror directory (and a bucket of the S3 server): the tree byte-identical to
upstream, a bad artifact keeping its version unpublished, conditional re-runs that
download nothing, an upstream update published artifacts first (a reader polling
the tree never sees a manifest naming a missing file), unsafe `relative_url`s
refused, and nothing asked of the binaries' hosts.
Over 300 lines because each rule of the sync side gets its own scenario over the one
shared setup, and the unsafe-manifest host and the polling reader live here.
*/
import {createHash} from 'node:crypto';
import {access, readFile} from 'node:fs/promises';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {deflateSync} from 'node:zlib';
import {GetObjectCommand} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import yazl from 'yazl';
import {readDefendManifestZip} from '../src/defend/verify.js';
import {
	type FakeDefendVersion,
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, toArgs} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

// In-process syncs use the SDK too; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 Defend sync tests', await ensureS3(), {serial: true});

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const good = ['8.19.3', '9.0.7', '9.1.3'];
const manifestOf = (version: string) => `downloads/endpoint/manifest/artifacts-${version}.zip`;

type Setup = {fake: FakeSecurityHost; dir: string; keyPath: string};

async function setup(
	t: ExecutionContext,
	versions: readonly FakeDefendVersion[] = standardDefendVersions,
): Promise<Setup> {
	const fake = await startFakeSecurityHost({versions});
	t.teardown(() => fake.close());
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	return {fake, dir, keyPath};
}

/**
Flags of a Defend sync. The binaries' upstream and versions API are a port nobody
listens on: a run that asked them anything would fail as unreachable.
*/
function defendFlags({fake, dir, keyPath}: Setup, versions: string, extra: Record<string, unknown> = {}) {
	return {
		dir,
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [keyPath],
		'retry-delay': '5',
		timeout: '5',
		'defend-artifacts': versions,
		'defend-upstream': fake.url,
		...extra,
	};
}

/** Every file of `versions` upstream is in the tree with the same bytes. */
async function assertMirrored(t: ExecutionContext, {fake, dir}: Setup, versions: readonly string[]) {
	for (const version of versions) {
		const files = fake.filesOf(version);
		t.true(files.length > 1, version);
		for (const relative of files) {
			const held = await readFile(path.join(dir, relative)).catch(() => undefined);
			t.true(held?.equals(fake.file(relative) ?? Buffer.alloc(1)), `${relative} is not as upstream has it`);
		}
	}
}

const exists = (file: string) =>
	access(file).then(
		() => true,
		() => false,
	);

const artifactsOf = (fake: FakeSecurityHost, versions: readonly string[]) =>
	new Set(
		versions.flatMap((version) => fake.filesOf(version).filter((file) => !file.includes('/manifest/'))),
	);

test('good versions are mirrored byte-identical, manifests and every artifact they name', async (t) => {
	const context = await setup(t);
	const {summary} = await runSync(defendFlags(context, good.join(',')));
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	t.like(summary.defend, {versions: 3, held: 0, updated: 3, unchanged: 0, failed: 0});
	t.is(summary.defend?.artifacts.published, artifactsOf(context.fake, good).size);
	await assertMirrored(t, context, good);

	const manifest = JSON.parse(await readFile(path.join(context.dir, '.mirror/manifest.json'), 'utf8'));
	t.deepEqual(Object.keys(manifest.defend.versions).sort(), good);
	t.is(manifest.defend.versions['9.1.3'].manifestVersion, '1.0.2431');
	t.truthy(manifest.defend.versions['9.1.3'].etag);
});

test('a version with a bad artifact is not published, the others are, and the run exits 1 naming the file', async (t) => {
	const context = await setup(t);
	const result = await runCli(['sync', '--no-json', ...toArgs(defendFlags(context, '8.19.3,9.1.2,9.1.3'))]);
	t.is(result.code, 1, result.stderr);
	t.false(await exists(path.join(context.dir, manifestOf('9.1.2'))));
	await assertMirrored(t, context, ['8.19.3', '9.1.3']);

	const corrupt = standardDefendVersions.find((version) => version.version === '9.1.2');
	const bad = corrupt?.artifacts.find((artifact) => artifact.corrupt)?.identifier ?? 'none';
	const badPath = context.fake.filesOf('9.1.2').find((file) => file.includes(`/${bad}/`)) ?? 'none';
	t.regex(result.stdout, new RegExp(`error: ${badPath}: .*encoded_sha256`));
	t.regex(result.stdout, /error: downloads\/endpoint\/manifest\/artifacts-9\.1\.2\.zip: .*nothing is served/);
	t.regex(result.stdout, /defend: 2 versions updated, 1 failed; \d+ artifacts published/);
	t.false(await exists(path.join(context.dir, badPath)));

	const json = await runCli(['sync', '--json', ...toArgs(defendFlags(context, '9.1.2'))]);
	t.is(json.code, 1);
	t.true(
		json.lines.some(
			(line) => line.event === 'failed' && line.path === badPath && line.code === 'ERR_CHECKSUM',
		),
	);
	const last = json.lines.find((line) => line.event === 'summary') as
		| {summary?: {defend?: unknown}}
		| undefined;
	t.like(last?.summary?.defend, {versions: 1, failed: 1, updated: 0});
});

test('a re-run asks each manifest conditionally (304) and downloads no artifact', async (t) => {
	const context = await setup(t);
	const flags = defendFlags(context, good.join(','));
	await runSync(flags);
	const before = context.fake.requests.length;
	const {summary} = await runSync(flags);
	t.is(summary.result, 'success');
	t.like(summary.defend, {held: 3, updated: 0, unchanged: 3, artifacts: {published: 0, present: 0}});
	const requests = context.fake.requests.slice(before);
	t.deepEqual(
		requests.map((request) => request.path).sort(),
		good.map((version) => `/${manifestOf(version)}`),
	);
	t.true(requests.every((request) => request.status === 304 && request.ifNoneMatch !== undefined));
});

test('a host that sends no validators: the same manifest bytes only refresh the version, and no artifact is downloaded again', async (t) => {
	const context = await setup(t);
	// The fake's files, with no ETag or Last-Modified: every GET is a plain 200.
	const asked: string[] = [];
	const server = http.createServer((request, response) => {
		asked.push(request.url ?? '');
		const body = context.fake.file(request.url ?? '');
		response.writeHead(body ? 200 : 404, {'content-length': body?.length ?? 0});
		response.end(body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	const flags = defendFlags(context, '9.1.3', {
		'defend-upstream': `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
	});
	await runSync(flags);
	const listed = () =>
		readFile(path.join(context.dir, '.mirror/manifest.json'), 'utf8').then(
			(text) => JSON.parse(text).defend.versions['9.1.3'],
		);
	const first = await listed();
	t.is(first.etag, undefined);
	asked.length = 0;
	await new Promise((resolve) => setTimeout(resolve, 5));
	const {summary} = await runSync(flags);
	t.like(summary.defend, {updated: 0, unchanged: 1, artifacts: {published: 0}});
	t.deepEqual(asked, [`/${manifestOf('9.1.3')}`]);
	const second = await listed();
	t.is(second.publishedAt, first.publishedAt);
	t.true(second.refreshedAt > first.refreshedAt);
});

/** 9.1.3 as upstream publishes it a day later: one list changed, one artifact new, the rest kept. */
function nextDay(): FakeDefendVersion {
	const base = standardDefendVersions.find((version) => version.version === '9.1.3') as FakeDefendVersion;
	return {
		...base,
		manifestVersion: '1.0.2440',
		artifacts: [
			...base.artifacts.map((artifact) =>
				artifact.identifier === 'global-exceptionlist-windows'
					? {...artifact, content: JSON.stringify({entries: [{type: 'simple', entries: []}], day: 2})}
					: artifact,
			),
			{identifier: 'endpointpe-v4-trustlist', content: JSON.stringify({entries: ['day 2']})},
		],
	};
}

/**
Read the tree over and over until `done`: every manifest zip read must name only
files that are there. Resolves with how many manifests were read.
*/
async function pollReader(t: ExecutionContext, dir: string, done: () => boolean): Promise<number> {
	let reads = 0;
	do {
		for (const version of good) {
			const file = path.join(dir, manifestOf(version));
			if (!(await exists(file))) {
				continue;
			}

			const manifest = await readDefendManifestZip(file, version);
			reads++;
			for (const ref of manifest.artifacts) {
				if (!(await exists(path.join(dir, ref.path)))) {
					t.fail(`${version} manifest ${manifest.manifestVersion} names ${ref.path}, which is missing`);
				}
			}
		}

		await new Promise((resolve) => setImmediate(resolve));
	} while (!done());
	return reads;
}

test('an upstream update publishes the new manifest after every new artifact, keeping the old ones; a polling reader never sees a missing file', async (t) => {
	const context = await setup(t);
	const flags = defendFlags(context, good.join(','));
	await runSync(flags);
	const oldArtifacts = artifactsOf(context.fake, ['9.1.3']);
	const oldZip = context.fake.file(manifestOf('9.1.3'));

	await context.fake.publish(nextDay());
	const added = [...artifactsOf(context.fake, ['9.1.3'])].filter((file) => !oldArtifacts.has(file));
	t.is(added.length, 2);
	// Slow new artifacts widen the window in which a careless sync would show a dangling manifest.
	for (const file of added) {
		context.fake.fault(file, {delayMs: 150});
	}

	let finished = false;
	const running = runSync(flags).finally(() => {
		finished = true;
	});
	const reads = await pollReader(t, context.dir, () => finished);
	const {summary} = await running;
	t.true(reads > 0);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	t.like(summary.defend, {updated: 1, unchanged: 2, artifacts: {published: 2, present: 5}});
	await assertMirrored(t, context, good);
	t.false((await readFile(path.join(context.dir, manifestOf('9.1.3')))).equals(oldZip ?? Buffer.alloc(0)));
	for (const file of oldArtifacts) {
		t.true(await exists(path.join(context.dir, file)), `${file} was removed`);
	}

	const manifest = await readDefendManifestZip(path.join(context.dir, manifestOf('9.1.3')), '9.1.3');
	t.is(manifest.manifestVersion, '1.0.2440');
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A manifest zip naming one artifact at `relativeUrl`, with correct digests for some bytes. */
async function unsafeManifest(relativeUrl: string): Promise<Buffer> {
	const decoded = Buffer.from('{"entries":[]}');
	const encoded = deflateSync(decoded);
	const manifest = {
		manifest_version: '1.0.1',
		schema_version: 'v1',
		artifacts: {
			'global-exceptionlist-linux': {
				encryption_algorithm: 'none',
				decoded_sha256: sha256(decoded),
				decoded_size: decoded.length,
				encoded_sha256: sha256(encoded),
				encoded_size: encoded.length,
				relative_url: relativeUrl,
				compression_algorithm: 'zlib',
			},
		},
	};
	const zip = new yazl.ZipFile();
	zip.addBuffer(Buffer.from(JSON.stringify(manifest)), 'manifest.json');
	zip.end();
	const chunks: Buffer[] = [];
	for await (const chunk of zip.outputStream) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

test('a manifest naming a path outside /downloads/ or another host is refused and its version not published', async (t) => {
	const unsafe: Record<string, string> = {
		'7.0.1': '../x',
		'7.0.2': 'http://evil/x',
		'7.0.3': '/downloads/endpoint/../../x',
	};
	const served = new Map<string, Buffer>();
	for (const [version, url] of Object.entries(unsafe)) {
		served.set(`/${manifestOf(version)}`, await unsafeManifest(url));
	}

	const asked: string[] = [];
	const server = http.createServer((request, response) => {
		asked.push(request.url ?? '');
		const body = served.get(request.url ?? '');
		response.writeHead(body ? 200 : 404, {'content-length': body?.length ?? 0});
		response.end(body);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const fake = {url: host} as FakeSecurityHost;
	const {summary} = await runSync(defendFlags({fake, dir, keyPath}, Object.keys(unsafe).join(',')));
	t.is(summary.result, 'failed');
	t.like(summary.defend, {failed: 3, updated: 0});
	for (const [version, url] of Object.entries(unsafe)) {
		const failure = summary.failed.find((entry) => entry.path === manifestOf(version));
		t.is(failure?.code, 'ERR_DEFEND', version);
		t.true(failure?.reason.includes(JSON.stringify(url)), failure?.reason);
		t.false(await exists(path.join(dir, manifestOf(version))));
	}

	// Only the manifests were asked for: nothing they name was fetched.
	t.deepEqual(
		asked.sort(),
		Object.keys(unsafe).map((version) => `/${manifestOf(version)}`),
	);
});

test('an unknown version fails naming it; only Defend selected asks nothing of the binaries hosts', async (t) => {
	const context = await setup(t);
	const {summary} = await runSync(defendFlags(context, '8.19.3,9.9.9'));
	t.is(summary.result, 'failed');
	t.is(summary.versions.length, 0);
	const failure = summary.failed.find((entry) => entry.path === manifestOf('9.9.9'));
	t.regex(failure?.reason ?? '', /no manifest for Elastic Defend 9\.9\.9/);
	await assertMirrored(t, context, ['8.19.3']);
	// Every request went to the security host (the binaries' hosts are a closed port).
	t.is(summary.requests.get, context.fake.requests.length);
});

test('ranges and latest resolve through the versions API as --versions do; the binaries host hears nothing else', async (t) => {
	const context = await setup(t);
	const {upstream} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		apiVersions: ['8.19.3', '9.0.7', '9.1.2', '9.1.3', '9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64'],
	});
	const {summary, events} = await runSync(
		defendFlags(context, '9.0.x,latest', {
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	const start = events.find((event) => event.type === 'start');
	t.deepEqual(start?.type === 'start' ? start.defend?.versions.toSorted() : undefined, ['9.0.7', '9.1.3']);
	t.deepEqual(
		upstream.requests.map((request) => request.path),
		['v1/versions'],
	);
	await assertMirrored(t, context, ['9.0.7', '9.1.3']);
});

test('binaries and Defend in one run: one summary, one run record', async (t) => {
	const context = await setup(t);
	const {upstream} = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const {summary} = await runSync(
		defendFlags(context, '9.1.3', {
			versions: '9.1.3',
			products: 'elastic-agent',
			platforms: 'linux-x86_64',
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	t.is(summary.published, 1);
	t.like(summary.defend, {updated: 1, artifacts: {published: 6}});
	const status = JSON.parse(await readFile(path.join(context.dir, '.mirror/status.json'), 'utf8'));
	t.like(status.lastRun.counts.defend, {updated: 1, unchanged: 0, failed: 0, artifacts: {published: 6}});
	t.is(status.history.length, 1);
	await assertMirrored(t, context, ['9.1.3']);
});

test('a dry run lists each version, new or held, and downloads nothing', async (t) => {
	const context = await setup(t);
	await runSync(defendFlags(context, '8.19.3'));
	const before = context.fake.requests.length;
	const result = await runCli([
		'sync',
		'--no-json',
		'--dry-run',
		...toArgs(defendFlags(context, '8.19.3,9.0.7')),
	]);
	t.is(result.code, 0, result.stderr);
	t.regex(
		result.stdout,
		/refresh +downloads\/endpoint\/manifest\/artifacts-8\.19\.3\.zip \(held manifest_version/,
	);
	t.regex(result.stdout, /fetch +downloads\/endpoint\/manifest\/artifacts-9\.0\.7\.zip \(new Defend version/);
	t.regex(result.stdout, /defend: 2 versions, 1 new/);
	t.is(context.fake.requests.length, before);
	t.false(await exists(path.join(context.dir, manifestOf('9.0.7'))));
});

test('bad values of the Defend flags exit 2 naming the value', async (t) => {
	const context = await setup(t);
	for (const [flags, pattern] of [
		[{'defend-artifacts': 'nope'}, /nope/],
		[{'defend-upstream': 'ftp://x'}, /ftp:\/\/x/],
	] as const) {
		const result = await runCli(['sync', ...toArgs({...defendFlags(context, '9.1.3'), ...flags})]);
		t.is(result.code, 2, JSON.stringify(flags));
		t.regex(result.stderr, pattern);
	}

	t.deepEqual(context.fake.requests, []);
});

test('a security host that cannot be reached ends the run with one line pointing at --defend-upstream', async (t) => {
	const context = await setup(t);
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(defendFlags(context, '9.1.3', {'defend-upstream': 'http://127.0.0.1:9'})),
	]);
	t.is(result.code, 1, result.stderr);
	t.regex(result.stderr, /cannot reach 127\.0\.0\.1:9 .*check --defend-upstream/);
	t.false(await exists(path.join(context.dir, manifestOf('9.1.3'))));
});

s3Test('a Defend sync into a bucket publishes objects byte-identical to upstream', async (t) => {
	const context = await setup(t);
	const bucket = await withBucket(t);
	const {dir: _dir, ...rest} = defendFlags(context, '9.0.7,9.1.3');
	const flags = {...rest, store: bucket.url};
	const first = await runSync(flags, s3Env);
	t.is(first.summary.result, 'success', JSON.stringify(first.summary.failed));
	t.like(first.summary.defend, {updated: 2});

	const client = testClient();
	t.teardown(() => client.destroy());
	for (const version of ['9.0.7', '9.1.3']) {
		for (const relative of context.fake.filesOf(version)) {
			const object = await client.send(
				new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${relative}`}),
			);
			const body = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
			t.true(body.equals(context.fake.file(relative) ?? Buffer.alloc(0)), relative);
		}
	}

	const before = context.fake.requests.length;
	const again = await runSync(flags, s3Env);
	t.like(again.summary.defend, {unchanged: 2, artifacts: {published: 0}});
	t.true(context.fake.requests.slice(before).every((request) => request.status === 304));
});
