import {createHash} from 'node:crypto';
import test from 'ava';
import {getJson, request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {withMirror} from './helpers/with-server.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

type Artifact = {
	product: string;
	version: string;
	platform: string;
	fips: boolean;
	file: string;
	path: string;
	url: string;
	sha512Url: string;
	ascUrl: string;
	size: number;
	sha512: string;
	publishedAt: string;
};

test('/api/v1/artifacts lists every product, version and platform with path, size, sha512 and publish time', async (t) => {
	const mirror = await withMirror(t, key, {
		versions: ['9.0.8', '9.1.3'],
		products: ['elastic-agent', 'fleet-server'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
		fips: true,
	});
	const body = await getJson<{
		count: number;
		artifacts: Artifact[];
		keys: Array<{path: string; url: string}>;
	}>(mirror.url, '/api/v1/artifacts');
	const expected = mirror.upstream.refs;
	t.is(body.count, expected.length);
	t.deepEqual(body.artifacts.map((artifact) => artifact.path).sort(), expected.map((ref) => ref.path).sort());
	for (const artifact of body.artifacts) {
		const bytes = mirror.upstream.files.get(artifact.path) as Buffer;
		t.is(artifact.size, bytes.length);
		t.is(artifact.sha512, createHash('sha512').update(bytes).digest('hex'));
		t.is(artifact.url, `${mirror.url}/${artifact.path}`);
		t.is(artifact.sha512Url, `${artifact.url}.sha512`);
		t.false(Number.isNaN(Date.parse(artifact.publishedAt)));
		t.is(artifact.fips, artifact.file.includes('-fips-'));
	}

	// FIPS builds exist from 9.1 on, for Linux only.
	t.deepEqual(
		body.artifacts.filter((artifact) => artifact.fips).map((artifact) => artifact.file),
		['elastic-agent-fips-9.1.3-linux-x86_64.tar.gz'],
	);
	t.deepEqual(body.keys.map((entry) => entry.path).sort(), [
		'GPG-KEY-elastic-agent',
		'GPG-KEY-elasticsearch',
	]);

	const filtered = await getJson<{artifacts: Artifact[]}>(
		mirror.url,
		'/api/v1/artifacts?product=fleet-server&version=9.1.3',
	);
	t.deepEqual(filtered.artifacts.map((artifact) => artifact.file).sort(), [
		'fleet-server-9.1.3-linux-x86_64.tar.gz',
		'fleet-server-9.1.3-windows-x86_64.zip',
	]);
});

test('/api/v1/status reports the last sync; artifacts-api /v1/versions and /v1/search describe what the mirror holds', async (t) => {
	const mirror = await withMirror(t, key, {
		versions: ['8.19.4', '9.1.3', '9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64', 'deb-amd64', 'windows-x86_64'],
	});
	const status = await getJson<{
		lastRun: {result: string; startedAt: string; finishedAt: string; counts: {published: number}};
		lastSuccess: unknown;
		artifacts: number;
	}>(mirror.url, '/api/v1/status');
	t.is(status.lastRun.result, 'success');
	// Keys apart (issue 14 item 18).
	t.is(status.lastRun.counts.published, 9);
	t.true(Date.parse(status.lastRun.finishedAt) >= Date.parse(status.lastRun.startedAt));
	t.deepEqual(status.lastSuccess, status.lastRun);
	t.is(status.artifacts, 9);

	const versions = await getJson<{versions: string[]; aliases: string[]; manifests: Record<string, unknown>}>(
		mirror.url,
		'/v1/versions',
	);
	t.deepEqual(versions.versions, ['8.19.4', '9.1.3', '9.2.0-SNAPSHOT']);
	t.deepEqual(versions.aliases, ['8.19', '9.1', '9.2-SNAPSHOT']);
	t.is(typeof versions.manifests['seconds-since-last-update'], 'number');

	const search = await getJson<{packages: Record<string, Record<string, unknown>>}>(
		mirror.url,
		'/v1/search/9.1.3/elastic-agent',
	);
	t.deepEqual(Object.keys(search.packages).sort(), [
		'elastic-agent-9.1.3-amd64.deb',
		'elastic-agent-9.1.3-linux-x86_64.tar.gz',
		'elastic-agent-9.1.3-windows-x86_64.zip',
	]);
	const tar = `${mirror.url}/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz`;
	t.deepEqual(search.packages['elastic-agent-9.1.3-linux-x86_64.tar.gz'], {
		url: tar,
		sha_url: `${tar}.sha512`,
		asc_url: `${tar}.asc`,
		type: 'tar',
		architecture: 'x86_64',
		os: ['linux'],
	});
	t.like(search.packages['elastic-agent-9.1.3-amd64.deb'], {
		type: 'deb',
		architecture: 'amd64',
		os: ['linux'],
	});
	t.like(search.packages['elastic-agent-9.1.3-windows-x86_64.zip'], {type: 'zip', os: ['windows']});

	const all = await getJson<{packages: Record<string, unknown>}>(mirror.url, '/v1/search/9.2.0-SNAPSHOT');
	t.is(Object.keys(all.packages).length, 3);

	t.is((await request(mirror.url, '/v1/search/9.9.9/elastic-agent')).status, 404);
	t.is((await request(mirror.url, '/v1/search/9.1.3/not-a-product')).status, 404);
});

test('listings in HTML and JSON show the folders and files with sizes', async (t) => {
	const mirror = await withMirror(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const json = await getJson<{
		path: string;
		entries: Array<{name: string; type: string; size?: number; url: string}>;
	}>(mirror.url, '/downloads/beats/elastic-agent/');
	t.is(json.path, '/downloads/beats/elastic-agent/');
	const tar = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';
	t.deepEqual(
		json.entries.map((entry) => entry.name),
		[tar, `${tar}.asc`, `${tar}.sha512`],
	);
	t.is(json.entries[0]?.size, 20 * 1024);
	// Absolute under the public URL (issue 14 item 25).
	t.is(json.entries[0]?.url, `${mirror.url}/downloads/beats/elastic-agent/${tar}`);

	const root = await getJson<{entries: Array<{name: string; type: string; size?: number; url: string}>}>(
		mirror.url,
		'/downloads/',
	);
	t.is(root.entries.length, 1);
	t.like(root.entries[0], {name: 'beats', type: 'directory', url: `${mirror.url}/downloads/beats/`});
	t.is(root.entries[0]?.size, undefined);

	const html = await request(mirror.url, '/downloads/beats/elastic-agent/', {headers: {Accept: 'text/html'}});
	t.is(html.status, 200);
	t.true(html.text.includes(`href="${tar}"`));
	t.true(html.text.includes('20.0 KiB'));
	t.is(html.headers.vary, 'Accept');
});

test('another mirror syncs from this one through its /v1/versions and downloads tree', async (t) => {
	const first = await withMirror(t, key, {
		versions: ['9.0.8', '9.1.2', '9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
	});
	const second = await tempDir(t);
	const {summary} = await runSync(
		syncFlags(first.url, second, first.keyPath, {
			'versions-api': `${first.url}/v1/versions`,
			versions: '9.1.x',
			platforms: 'linux-x86_64,windows-x86_64',
		}),
	);
	t.is(summary.result, 'success');
	t.deepEqual(summary.versions, ['9.1.2', '9.1.3']);
	// Keys apart (issue 14 item 18).
	t.is(summary.published, 4);
	const api = await getJson<{artifacts: Artifact[]}>(first.url, '/api/v1/artifacts?version=9.1.3');
	t.is(api.artifacts.length, 2);
});

test('a sync while the server runs shows up without a restart', async (t) => {
	const mirror = await withMirror(
		t,
		key,
		{versions: ['9.1.2', '9.1.3'], platforms: ['linux-x86_64']},
		{versions: '9.1.2'},
	);
	const before = await getJson<{versions: string[]}>(mirror.url, '/v1/versions');
	t.deepEqual(before.versions, ['9.1.2']);
	const path = '/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
	t.is((await request(mirror.url, path)).status, 404);
	const page = await request(mirror.url, '/');
	t.false(page.text.includes('9.1.3'));

	await runSync(syncFlags(mirror.upstream.url, mirror.dir, mirror.keyPath, {versions: '9.1.3'}));
	t.is((await request(mirror.url, path)).status, 200);
	t.deepEqual((await getJson<{versions: string[]}>(mirror.url, '/v1/versions')).versions, ['9.1.2', '9.1.3']);
	t.true((await request(mirror.url, '/')).text.includes('elastic-agent upgrade 9.1.3 --source-uri'));
});
