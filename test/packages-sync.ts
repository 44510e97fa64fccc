/**
`sync --packages`: what a run selects from a registry (per Kibana version, pins,
requirements, prereleases, `all`), what it checks before publishing, and that a
package run asks nothing of the binaries' upstream. Against the fake registry of
test/helpers, into a temp mirror directory (and a bucket of the S3 server).
Over 300 lines because each selection rule and each check gets its own scenario over
the one shared setup.
*/
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {GetObjectCommand} from '@aws-sdk/client-s3';
import test, {type ExecutionContext} from 'ava';
import type {SyncEvent} from '../src/mirror/events.js';
import {planPackages} from '../src/packages/plan.js';
import type {SelectedPackage} from '../src/packages/resolve.js';
import {emptyManifest, type PackageEntry} from '../src/store/manifest.js';
import {
	type FakePackageSpec,
	type FakeRegistry,
	standardPackages,
	startFakeRegistry,
} from './helpers/fake-registry.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, toArgs} from './helpers/run.js';
import {ensureS3, s3Env, testClient, withBucket} from './helpers/s3.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

// In-process syncs use the SDK too; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 package sync tests', await ensureS3(), {serial: true});

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

type Setup = {registry: FakeRegistry; dir: string; keyPath: string};

async function setup(
	t: ExecutionContext,
	packages: readonly FakePackageSpec[] = standardPackages,
): Promise<Setup> {
	const registry = await startFakeRegistry({key, packages});
	t.teardown(() => registry.close());
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	return {registry, dir, keyPath};
}

/**
Flags of a package sync. The binaries' upstream is a port nobody listens on: a run
that asked it anything would fail as unreachable.
*/
function packageFlags({registry, dir, keyPath}: Setup, extra: Record<string, unknown> = {}) {
	return {
		dir,
		registry: registry.url,
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [keyPath],
		'retry-delay': '5',
		timeout: '5',
		...extra,
	};
}

const zipOf = (name: string, version: string) => `epr/${name}/${name}-${version}.zip`;

/** The zip paths the manifest lists. */
async function listedPackages(dir: string): Promise<string[]> {
	const manifest = JSON.parse(await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8'));
	return Object.keys(manifest.packages ?? {}).sort();
}

const published = (events: readonly SyncEvent[]) =>
	events.flatMap((event) => (event.type === 'published' ? [event.path] : [])).sort();

const zipRequests = (registry: FakeRegistry) =>
	registry.requests.filter((request) => request.path.endsWith('.zip'));

test('each Kibana version gets the newest compatible version, with its zip, signature and info as upstream has them', async (t) => {
	const context = await setup(t);
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'nginx', 'kibana-versions': '8.19.0,9.1.0'}),
	);
	t.is(summary.result, 'success');
	t.deepEqual(summary.packages, {published: 2, present: 0, failed: 0});
	t.deepEqual(published(events), [zipOf('nginx', '1.5.0'), zipOf('nginx', '2.0.0')]);
	const plans = events.filter((event) => event.type === 'plan');
	t.true(
		plans.some(
			(event) => event.path === zipOf('nginx', '2.0.0') && event.reason.includes('newest for Kibana 9.1.0'),
		),
	);

	const manifest = JSON.parse(await readFile(path.join(context.dir, '.mirror/manifest.json'), 'utf8'));
	for (const version of ['1.5.0', '2.0.0']) {
		const fake = context.registry.packages.find(
			(pkg) => pkg.spec.name === 'nginx' && pkg.spec.version === version,
		);
		if (!fake) {
			t.fail(`the fake has no nginx ${version}`);
			return;
		}

		const zip = await readFile(path.join(context.dir, zipOf('nginx', version)));
		t.true(zip.equals(fake.zip));
		t.is(await readFile(path.join(context.dir, `${zipOf('nginx', version)}.sig`), 'utf8'), fake.signature);
		t.deepEqual(
			JSON.parse(await readFile(path.join(context.dir, `epr/nginx/nginx-${version}.json`), 'utf8')),
			fake.info,
		);
		const entry = manifest.packages[zipOf('nginx', version)] as PackageEntry;
		t.is(entry.size, fake.zip.length);
		// The search entry exactly as upstream answered it, key order included.
		t.is(JSON.stringify(entry.search), JSON.stringify(fake.searchEntry));
	}

	// Binaries were not selected: no key files, no artifacts.
	t.deepEqual(
		(await listFiles(context.dir)).filter((file) => !file.startsWith('.mirror/') && !file.startsWith('epr/')),
		[],
	);
});

test('a prerelease (and an experimental package) is considered only with --package-prerelease', async (t) => {
	const context = await setup(t);
	const flags = {packages: 'nginx,tomcat', 'kibana-versions': '9.1.0'};
	const without = await runSync(packageFlags(context, flags));
	t.deepEqual(published(without.events), [zipOf('nginx', '2.0.0')]);
	t.true(without.summary.warnings.some((warning) => warning.includes('tomcat')));

	const other = await setup(t);
	const withPre = await runSync(packageFlags(other, {...flags, 'package-prerelease': true}));
	t.is(withPre.summary.result, 'success');
	t.deepEqual(published(withPre.events), [zipOf('nginx', '2.1.0-beta.1'), zipOf('tomcat', '0.9.0')]);
});

test('a pin takes that exact version; a missing version or an unknown package fails the run and names it', async (t) => {
	const context = await setup(t);
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'nginx@1.0.0,nginx@9.9.9,nosuch,system', 'kibana-versions': '9.1.0'}),
	);
	t.is(summary.result, 'failed');
	t.deepEqual(published(events), [zipOf('nginx', '1.0.0'), zipOf('system', '1.60.0')]);
	t.deepEqual(
		summary.failed.map(({path, code}) => ({path, code})),
		[
			{path: 'nginx@9.9.9', code: 'ERR_NO_SUCH_VERSION'},
			{path: 'nosuch', code: 'ERR_NO_SUCH_PACKAGE'},
		],
	);
	t.deepEqual(summary.packages, {published: 2, present: 0, failed: 2});
});

test('requirements: for each Kibana version the newest compatible version in the required range, transitively listed with why', async (t) => {
	const context = await setup(t);
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'apache_otel', 'kibana-versions': '9.1.0,9.2.0'}),
	);
	t.is(summary.result, 'success');
	// filelog_input 2.0.0 works with 9.1 but is outside ^1.1.0; 1.3.0 needs 9.2.
	t.deepEqual(published(events), [
		zipOf('apache_dashboards', '1.0.0'),
		zipOf('apache_otel', '1.2.0'),
		zipOf('filelog_input', '1.2.0'),
		zipOf('filelog_input', '1.3.0'),
	]);
	const reason = events.find(
		(event) => event.type === 'plan' && event.path === zipOf('filelog_input', '1.2.0'),
	);
	t.regex(
		reason?.type === 'plan' ? reason.reason : '',
		/required by apache_otel-1\.2\.0 \(input \^1\.1\.0\)/,
	);
});

test('all: every package newest for each Kibana version, plus requirements; a bad signature is not published, the rest are', async (t) => {
	const context = await setup(t);
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'all', 'kibana-versions': '9.1.0'}),
	);
	t.is(summary.result, 'failed');
	t.deepEqual(published(events), [
		zipOf('apache_dashboards', '1.0.0'),
		zipOf('apache_otel', '1.2.0'),
		zipOf('aws', '3.0.0'),
		zipOf('filelog_input', '1.2.0'),
		zipOf('filelog_input', '2.0.0'),
		zipOf('nginx', '2.0.0'),
		zipOf('security_ai', '1.0.0'),
		zipOf('system', '1.60.0'),
	]);
	t.deepEqual(
		summary.failed.map(({path, code}) => ({path, code})),
		[{path: zipOf('tampered', '1.0.0'), code: 'ERR_SIGNATURE'}],
	);
	t.false((await listFiles(context.dir)).some((file) => file.startsWith('epr/tampered/')));
	t.deepEqual(await listedPackages(context.dir), published(events));
});

test('the CLI: a bad signature exits 1 with the reason, the other package is published', async (t) => {
	const context = await setup(t);
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(packageFlags(context, {packages: 'nginx,tampered', 'kibana-versions': '9.1.0'})),
	]);
	t.is(result.code, 1, result.stderr);
	t.regex(result.stdout, /error: epr\/tampered\/tampered-1\.0\.0\.zip: .*signature/i);
	t.regex(result.stdout, /packages: 1 published, 0 present, 1 failed/);
	t.deepEqual(await listedPackages(context.dir), [zipOf('nginx', '2.0.0')]);

	// The catalogue page tells the same: package counts, and what a packages-only mirror holds.
	const {url} = await withServer(t, context.dir);
	const page = await (await fetch(`${url}/`)).text();
	t.regex(page, /package versions: 1 published, 0 already present; 1 failed, [\d.]+ KiB downloaded\./);
	t.regex(page, /Holding 1 integration package version of 1 package\./);
	t.false(page.includes('Holding 0 artifacts'));
});

test('JSON lines carry the package events and the package counts of the summary', async (t) => {
	const context = await setup(t);
	const result = await runCli([
		'sync',
		'--json',
		...toArgs(packageFlags(context, {packages: 'nginx', 'kibana-versions': '9.1.0'})),
	]);
	t.is(result.code, 0, result.stderr);
	const start = result.lines.find((line) => line.event === 'start');
	t.like(start, {packages: {kibanaVersions: ['9.1.0'], versions: 1}});
	t.true(result.lines.some((line) => line.event === 'plan' && line.path === zipOf('nginx', '2.0.0')));
	t.true(result.lines.some((line) => line.event === 'published' && line.path === zipOf('nginx', '2.0.0')));
	const summary = result.lines.at(-1)?.summary as {packages?: unknown} | undefined;
	t.deepEqual(summary?.packages, {published: 1, present: 0, failed: 0});
});

test('a zip whose manifest or whose package info names another version is not published (ERR_PACKAGE)', async (t) => {
	const context = await setup(t, [
		{name: 'good', version: '1.0.0', kibana: '^9.0.0'},
		{name: 'wrong_manifest', version: '1.0.0', kibana: '^9.0.0', manifestVersionMismatch: true},
		{name: 'wrong_info', version: '1.0.0', kibana: '^9.0.0', infoMismatch: true},
	]);
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'good,wrong_manifest,wrong_info', 'kibana-versions': '9.1.0'}),
	);
	t.is(summary.result, 'failed');
	t.deepEqual(published(events), [zipOf('good', '1.0.0')]);
	t.deepEqual(
		summary.failed.map(({path, code}) => ({path, code})).sort((a, b) => a.path.localeCompare(b.path)),
		[
			{path: zipOf('wrong_info', '1.0.0'), code: 'ERR_PACKAGE'},
			{path: zipOf('wrong_manifest', '1.0.0'), code: 'ERR_PACKAGE'},
		],
	);
	t.deepEqual(await listedPackages(context.dir), [zipOf('good', '1.0.0')]);
});

test('a re-run with nothing new downloads no zip; a dry run lists each version and why, and downloads nothing', async (t) => {
	const context = await setup(t);
	const flags = packageFlags(context, {packages: 'nginx,apache_otel', 'kibana-versions': '9.1.0'});
	const first = await runSync(flags);
	t.is(first.summary.result, 'success');
	t.is(first.summary.packages?.published, 4);
	const zipsBefore = zipRequests(context.registry).length;
	t.is(zipsBefore, 4);
	const requestsBefore = context.registry.requests.length;

	const again = await runSync(flags);
	t.is(again.summary.result, 'success');
	t.deepEqual(again.summary.packages, {published: 0, present: 4, failed: 0});
	// Only searches: no zip, signature or package info is asked for again.
	t.deepEqual(
		context.registry.requests.slice(requestsBefore).map((request) => request.path),
		context.registry.requests.slice(requestsBefore).map(() => '/search'),
	);
	t.true(context.registry.requests.length > requestsBefore);

	const other = await setup(t);
	const dry = await runCli([
		'sync',
		'--no-json',
		'--dry-run',
		...toArgs(packageFlags(other, {packages: 'apache_otel', 'kibana-versions': '9.1.0'})),
	]);
	t.is(dry.code, 0, dry.stderr);
	t.regex(
		dry.stdout,
		/fetch +epr\/filelog_input\/filelog_input-1\.2\.0\.zip \(new; required by apache_otel-1\.2\.0/,
	);
	t.regex(dry.stdout, /fetch +epr\/apache_otel\/apache_otel-1\.2\.0\.zip \(new; newest for Kibana 9\.1\.0\)/);
	t.deepEqual(zipRequests(other.registry), []);
});

test('a held version whose search entry upstream rewords: taken when the stored info agrees, refused when it lies', async (t) => {
	const context = await setup(t);
	const flags = packageFlags(context, {packages: 'nginx', 'kibana-versions': '9.1.0'});
	t.is((await runSync(flags)).summary.result, 'success');
	const held = context.registry.packages.find(
		(made) => made.spec.name === 'nginx' && made.spec.version === '2.0.0',
	);
	t.truthy(held);
	const entry = (held as NonNullable<typeof held>).searchEntry;
	const listed = async () =>
		JSON.parse(await readFile(path.join(context.dir, '.mirror/manifest.json'), 'utf8')).packages[
			zipOf('nginx', '2.0.0')
		].search;

	// The same fields in another key order: the same entry, taken (the info agrees).
	const reordered = Object.fromEntries(Object.entries(entry).reverse());
	for (const key of Object.keys(entry)) {
		delete entry[key];
	}

	Object.assign(entry, reordered);
	const same = await runSync(flags);
	t.is(same.summary.result, 'success');
	t.deepEqual(same.summary.warnings, []);
	t.deepEqual(Object.keys(await listed()), Object.keys(reordered));

	// A title and a Kibana condition the signed zip's info does not say: refused, the held entry stays.
	const before = await listed();
	entry.title = 'LIES';
	entry.conditions = {kibana: {version: '^7.0.0'}};
	const lying = await runSync(flags);
	t.true(
		lying.summary.warnings.some((warning) =>
			/new search entry is not taken .*says (title|conditions)/.test(warning),
		),
		lying.summary.warnings.join('\n'),
	);
	t.deepEqual(await listed(), before);
});

test('only --packages: the binaries upstream hears nothing, no key file is mirrored', async (t) => {
	const context = await setup(t);
	const {upstream} = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const {summary} = await runSync(
		packageFlags(context, {
			packages: 'system',
			'kibana-versions': '9.1.0',
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(summary.result, 'success');
	t.deepEqual(upstream.requests, []);
	t.deepEqual(summary.keys, {published: 0, present: 0});
	t.deepEqual(summary.versions, []);
});

test('without --kibana-versions the packages work with what --versions resolves to; latest asks only the versions API; a SNAPSHOT asks as Kibana does', async (t) => {
	const context = await setup(t);
	const {upstream} = await withUpstream(t, key, {versions: ['8.19.2', '9.1.3'], platforms: ['linux-x86_64']});
	const viaVersions = await runSync(
		packageFlags(context, {
			packages: 'nginx',
			versions: '8.19.2',
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(viaVersions.summary.result, 'success');
	t.deepEqual(published(viaVersions.events), [zipOf('nginx', '1.5.0')]);
	t.deepEqual(viaVersions.summary.versions, [], 'no binaries');
	t.deepEqual(upstream.requests, [], 'an exact version needs no version list');

	const latest = await runSync(
		packageFlags(context, {
			packages: 'nginx',
			'kibana-versions': 'latest,9.2.0-SNAPSHOT',
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(latest.summary.result, 'success');
	t.deepEqual(published(latest.events), [zipOf('nginx', '2.0.0')]);
	t.deepEqual(
		upstream.requests.map((request) => request.path),
		['v1/versions'],
	);
	const start = latest.events.find((event) => event.type === 'start');
	t.deepEqual(start?.type === 'start' ? start.packages?.kibanaVersions : [], ['9.1.3', '9.2.0']);
	t.true(context.registry.requests.some((request) => request.query.includes('kibana.version=9.2.0')));
	t.false(context.registry.requests.some((request) => request.query.includes('SNAPSHOT')));
});

test('a signature by a key that is not trusted fails before the zip is downloaded', async (t) => {
	const context = await setup(t);
	const stranger = await createTestKey('Someone Else');
	const strangerPath = await stranger.writePublic(await tempDir(t, 'keys-'));
	const {summary} = await runSync(
		packageFlags({...context, keyPath: strangerPath}, {packages: 'nginx', 'kibana-versions': '9.1.0'}),
	);
	t.is(summary.result, 'failed');
	t.deepEqual(
		summary.failed.map(({path, code}) => ({path, code})),
		[{path: zipOf('nginx', '2.0.0'), code: 'ERR_SIGNATURE'}],
	);
	t.regex(summary.failed[0]?.reason ?? '', /nginx-2\.0\.0\.zip\.sig is signed by key .*not a trusted key/);
	t.deepEqual(zipRequests(context.registry), []);
	t.deepEqual(
		await listFiles(context.dir).then((files) => files.filter((file) => file.startsWith('epr/'))),
		[],
	);
});

test('a zip that fails once upstream is retried and published', async (t) => {
	const context = await setup(t);
	context.registry.fault('/epr/nginx/nginx-2.0.0.zip', {statuses: [503]});
	const {summary, events} = await runSync(
		packageFlags(context, {packages: 'nginx', 'kibana-versions': '9.1.0'}),
	);
	t.is(summary.result, 'success');
	t.deepEqual(published(events), [zipOf('nginx', '2.0.0')]);
	t.true(events.some((event) => event.type === 'retry' && event.path === zipOf('nginx', '2.0.0')));
	t.deepEqual(
		zipRequests(context.registry).map((request) => request.status),
		[503, 200],
	);
});

test('binaries and packages in one run: one summary, one run record', async (t) => {
	const context = await setup(t);
	const {upstream} = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const {summary} = await runSync(
		packageFlags(context, {
			packages: 'nginx',
			versions: '9.1.3',
			'kibana-versions': '9.1.0',
			products: 'elastic-agent',
			platforms: 'linux-x86_64',
			upstream: upstream.url,
			'versions-api': `${upstream.url}/v1/versions`,
		}),
	);
	t.is(summary.result, 'success');
	t.is(summary.published, 1);
	t.deepEqual(summary.packages, {published: 1, present: 0, failed: 0});
	const status = JSON.parse(await readFile(path.join(context.dir, '.mirror/status.json'), 'utf8'));
	t.deepEqual(status.lastRun.counts.packages, {published: 1, present: 0, failed: 0});
	t.is(status.history.length, 1);
});

test('bad package flags and nothing selected exit 2 with one line naming the value', async (t) => {
	const context = await setup(t);
	const base = {dir: context.dir, 'trusted-key': [context.keyPath]};
	const cases: Array<[Record<string, unknown>, RegExp]> = [
		[{packages: 'Bad!', 'kibana-versions': '9.1.0'}, /Bad!/],
		[{packages: 'nginx@x', 'kibana-versions': '9.1.0'}, /nginx@x/],
		[{packages: 'nginx', 'kibana-versions': 'nope'}, /nope/],
		[{packages: 'nginx', 'kibana-versions': '9.1.0', registry: 'ftp://x'}, /ftp:\/\/x/],
		[{}, /nothing selected/],
	];
	for (const [flags, pattern] of cases) {
		const result = await runCli(['sync', ...toArgs({...base, ...flags})]);
		t.is(result.code, 2, JSON.stringify(flags));
		t.regex(result.stderr, pattern);
		t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
	}

	t.deepEqual(context.registry.requests, []);
});

test('a registry that cannot be reached ends the run before it starts, with one line pointing at --registry', async (t) => {
	const context = await setup(t);
	const result = await runCli([
		'sync',
		'--no-json',
		...toArgs(
			packageFlags(context, {packages: 'nginx', 'kibana-versions': '9.1.0', registry: 'http://127.0.0.1:9'}),
		),
	]);
	t.is(result.code, 1);
	t.regex(result.stderr, /cannot reach 127\.0\.0\.1:9 .*check --registry/);
	t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
	t.deepEqual(await listFiles(context.dir), []);
});

test('the package plan: listed versions are skipped (their search entry refreshed when upstream changed it), others fetched', (t) => {
	const pkg = (version: string, search: Record<string, unknown> = {}): SelectedPackage => ({
		name: 'nginx',
		version,
		search: {name: 'nginx', version, ...search},
		reasons: ['newest for Kibana 9.1.0'],
	});
	const manifest = emptyManifest();
	const listed = (version: string, search: Record<string, unknown>) => ({
		path: zipOf('nginx', version),
		name: 'nginx',
		version,
		size: 1,
		sha512: 'a',
		signature: {size: 1, sha512: 'b'},
		info: {size: 1, sha512: 'c'},
		formatVersion: '3.0.0',
		search: {name: 'nginx', version, ...search},
		publishedAt: '2026-01-01T00:00:00.000Z',
	});
	manifest.packages[zipOf('nginx', '1.0.0')] = listed('1.0.0', {title: 'Nginx'});
	manifest.packages[zipOf('nginx', '1.5.0')] = listed('1.5.0', {title: 'Old'});
	const actions = planPackages(
		[pkg('1.0.0', {title: 'Nginx'}), pkg('1.5.0', {title: 'New'}), pkg('2.0.0')],
		manifest,
	);
	t.deepEqual(
		actions.map((action) => [
			action.kind,
			action.path,
			action.reason,
			action.kind === 'skip' && Boolean(action.refresh),
		]),
		[
			['skip', zipOf('nginx', '1.0.0'), 'already published; newest for Kibana 9.1.0', false],
			['skip', zipOf('nginx', '1.5.0'), 'already published; newest for Kibana 9.1.0', true],
			['fetch', zipOf('nginx', '2.0.0'), 'new; newest for Kibana 9.1.0', false],
		],
	);
});

s3Test('a package sync into a bucket publishes the zip, signature and info objects', async (t) => {
	const context = await setup(t);
	const bucket = await withBucket(t);
	const {dir: _dir, ...rest} = packageFlags(context, {packages: 'nginx', 'kibana-versions': '9.1.0'});
	const flags = {...rest, store: bucket.url};
	const first = await runSync(flags, s3Env);
	t.is(first.summary.result, 'success');
	t.deepEqual(first.summary.packages, {published: 1, present: 0, failed: 0});

	const client = testClient();
	t.teardown(() => client.destroy());
	const fake = context.registry.packages.find(
		(pkg) => pkg.spec.name === 'nginx' && pkg.spec.version === '2.0.0',
	);
	const read = async (relative: string) => {
		const object = await client.send(
			new GetObjectCommand({Bucket: bucket.bucket, Key: `mirror/${relative}`}),
		);
		return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
	};

	t.true((await read(zipOf('nginx', '2.0.0'))).equals(fake?.zip ?? Buffer.alloc(0)));
	t.is((await read(`${zipOf('nginx', '2.0.0')}.sig`)).toString('utf8'), fake?.signature ?? '');
	t.deepEqual(JSON.parse((await read('epr/nginx/nginx-2.0.0.json')).toString('utf8')), fake?.info);

	const zips = zipRequests(context.registry).length;
	const again = await runSync(flags, s3Env);
	t.deepEqual(again.summary.packages, {published: 0, present: 1, failed: 0});
	t.is(zipRequests(context.registry).length, zips);
});
