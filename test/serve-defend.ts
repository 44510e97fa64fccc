/**
serve answers Elastic Endpoint as artifacts.security.elastic.co does, from a mirror
directory: every manifest zip and artifact byte-identical at upstream's paths, with the
headers Endpoint needs; an endpoint-like client passes against the mirror as against
the fake host; a manifest a later publish replaces is served without a restart; and
the catalogue section, /api/v1/defend and the metrics say what is held and how old.
*/
import test from 'ava';
import {dirLocation} from '../src/store/location.js';
import {checkDefendVersion, metricValue} from './helpers/defend-checks.js';
import {publishDefend} from './helpers/defend-mirror.js';
import {endpointClient} from './helpers/endpoint-client.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {getJson, request} from './helpers/http.js';
import {eventually} from './helpers/package-checks.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const good = ['8.19.3', '9.0.7', '9.1.3'];
const shared = sharedTeardown();
let host: FakeSecurityHost;
let mirrorUrl: string;

test.before(async () => {
	host = await startFakeSecurityHost({versions: standardDefendVersions});
	shared.teardown(() => host.close());
	const dir = await tempDir(shared, 'serve-defend-');
	await publishDefend(dirLocation(dir), host, good);
	mirrorUrl = (await withServer(shared, dir)).url;
});

test.after.always(() => shared.run());

test('every file of each version is served byte-identical, with exact length, no encoding, dash-free ETags, 304s and cache lifetimes', async (t) => {
	let files = 0;
	for (const version of good) {
		files += await checkDefendVersion(t, mirrorUrl, host, version);
	}

	// 3 manifests and 18 artifact names, two of them shared by 9.0.7 and 9.1.3.
	t.is(files, 21);
	t.is((await request(mirrorUrl, '/downloads/endpoint/manifest/artifacts-9.1.2.zip')).status, 404);
	t.is((await request(mirrorUrl, '/downloads/endpoint/manifest/artifacts-9.9.9.zip')).status, 404);
});

test('an endpoint-like client passes against the mirror as against the fake host, and its next poll is a 304', async (t) => {
	for (const version of good) {
		for (const base of [host.url, mirrorUrl]) {
			const client = endpointClient(base, version);
			const first = await client.poll();
			t.is(first.status, 200, `${version} from ${base}`);
			const spec = standardDefendVersions.find((v) => v.version === version);
			t.like(first, {status: 200, manifestVersion: spec?.manifestVersion});
			t.is(first.status === 200 ? first.artifacts.length : 0, spec?.artifacts.length ?? -1);

			t.deepEqual(await client.poll(), {status: 304}, `${version} from ${base}: the second poll`);
		}
	}
});

test('/api/v1/defend lists the versions newest first with manifest_version, artifacts, bytes, times and the manifest URL', async (t) => {
	type Answer = {
		count: number;
		settings: string[];
		versions: Array<Record<string, unknown>>;
	};
	const answer = await getJson<Answer>(mirrorUrl, '/api/v1/defend');
	t.is(answer.count, 3);
	t.deepEqual(
		answer.versions.map((entry) => entry.version),
		['9.1.3', '9.0.7', '8.19.3'],
	);
	t.deepEqual(answer.settings, [
		`linux.advanced.artifacts.global.base_url: ${mirrorUrl}`,
		`mac.advanced.artifacts.global.base_url: ${mirrorUrl}`,
		`windows.advanced.artifacts.global.base_url: ${mirrorUrl}`,
	]);
	const newest = answer.versions[0] ?? {};
	const files = host.filesOf('9.1.3');
	const zip = host.file(files[0] ?? '') ?? Buffer.alloc(0);
	t.like(newest, {
		version: '9.1.3',
		manifestVersion: '1.0.2431',
		schemaVersion: 'v1',
		artifacts: 6,
		artifactBytes: files.slice(1).reduce((sum, path) => sum + (host.file(path)?.length ?? 0), 0),
		manifestPath: 'downloads/endpoint/manifest/artifacts-9.1.3.zip',
		manifestUrl: `${mirrorUrl}/downloads/endpoint/manifest/artifacts-9.1.3.zip`,
		manifestSize: zip.length,
		stale: false,
	});
	t.true(Date.now() - Date.parse(String(newest.refreshedAt)) < 600_000);
	t.true(Date.parse(String(newest.publishedAt)) > 0);
	// The URL it gives answers with the zip.
	const fetched = await request(mirrorUrl, new URL(String(newest.manifestUrl)).pathname);
	t.true(fetched.body.equals(zip));
});

test('the catalogue has a Defend protections section with each version and the policy settings to paste', async (t) => {
	const page = (await request(mirrorUrl, '/')).text;
	t.regex(page, /<section class="defend" id="defend"/);
	t.regex(page, /<a href="#defend">Defend protections<\/a>/);
	t.regex(page, /Holding Elastic Defend protections for 3 versions\./);
	t.regex(page, /3 Elastic Defend versions, 16 artifacts/);
	for (const version of standardDefendVersions.filter((v) => good.includes(v.version))) {
		const row = new RegExp(
			`<tr class="defend-version" id="defend-${version.version.replaceAll('.', '\\.')}"[\\s\\S]*?<code>${version.manifestVersion}</code>[\\s\\S]*?\\(just now\\)[\\s\\S]*?${version.artifacts.length} artifacts[\\s\\S]*?artifacts-${version.version}\\.zip</a>`,
		);
		t.regex(page, row, version.version);
	}

	for (const os of ['linux', 'mac', 'windows']) {
		t.true(page.includes(`${os}.advanced.artifacts.global.base_url: ${mirrorUrl}`), os);
	}

	t.regex(page, /Leave <code>public_key<\/code> empty/);
	t.false(page.includes('older than 30 days'));
	t.false(page.includes('The mirror is empty'), 'a Defend-only mirror is not called empty');
	// The settings follow the public URL users reach the server at.
	const dir = await tempDir(t, 'serve-defend-url-');
	await publishDefend(dirLocation(dir), host, ['9.1.3']);
	const proxied = await withServer(t, dir, {publicUrl: 'https://mirror.example.org/elastic'});
	const proxiedPage = (await request(proxied.url, '/')).text;
	t.true(
		proxiedPage.includes('windows.advanced.artifacts.global.base_url: https://mirror.example.org/elastic'),
	);
	t.regex(proxiedPage, /private CA/);
});

test('metrics: manifest age per version, and manifest and artifact requests by status', async (t) => {
	const client = endpointClient(mirrorUrl, '9.0.7');
	await client.poll();
	await client.poll();
	await request(mirrorUrl, '/downloads/endpoint/artifacts/missing/0000');
	const metrics = (await request(mirrorUrl, '/metrics')).text;
	for (const version of good) {
		const age = metricValue(metrics, `mirror_defend_manifest_age_seconds{version="${version}"}`);
		t.true(age !== undefined && age >= 0 && age < 600, `${version}: ${String(age)}`);
	}

	t.is(metricValue(metrics, 'mirror_defend_manifest_age_seconds{version="9.1.2"}'), undefined);
	t.is(metricValue(metrics, 'mirror_defend_versions'), 3);
	t.true((metricValue(metrics, 'mirror_defend_requests_total{kind="manifest",status="200"}') ?? 0) >= 1);
	t.true((metricValue(metrics, 'mirror_defend_requests_total{kind="manifest",status="304"}') ?? 0) >= 1);
	t.true((metricValue(metrics, 'mirror_defend_requests_total{kind="artifact",status="200"}') ?? 0) >= 6);
	t.true((metricValue(metrics, 'mirror_defend_requests_total{kind="artifact",status="404"}') ?? 0) >= 1);
	t.true(
		(metricValue(metrics, 'mirror_http_requests_total{route="defend-manifest",method="GET",status="304"}') ??
			0) >= 1,
	);
});

test('a manifest replaced while serving is served within seconds, and a poller never sees one naming a missing artifact', async (t) => {
	const own = await startFakeSecurityHost({
		versions: standardDefendVersions.filter((v) => v.version === '9.1.3'),
	});
	t.teardown(() => own.close());
	const dir = await tempDir(t, 'serve-defend-update-');
	await publishDefend(dirLocation(dir), own, ['9.1.3']);
	const {url} = await withServer(t, dir);
	const client = endpointClient(url, '9.1.3');
	t.is((await client.poll()).status, 200);
	t.is((await client.poll()).status, 304);

	const spec = standardDefendVersions.find((v) => v.version === '9.1.3');
	if (!spec) {
		throw new Error('the standard set has 9.1.3');
	}

	await own.publish({
		...spec,
		manifestVersion: '1.0.2440',
		artifacts: [
			...spec.artifacts.filter((artifact) => artifact.identifier !== 'endpointpe-v4-blocklist'),
			{
				identifier: 'endpointpe-v4-blocklist',
				content: JSON.stringify({entries: ['new'], version: '9.1.3-2'}),
			},
			{identifier: 'trustlist-v1', content: JSON.stringify({entries: ['a', 'b', 'c']})},
		],
	});
	let polls = 0;
	let publishing = true;
	const poller = (async () => {
		while (publishing) {
			// A fresh endpoint each time: every poll reads the manifest whole and every artifact it names.
			await endpointClient(url, '9.1.3').poll();
			polls++;
		}
	})();
	await publishDefend(dirLocation(dir), own, ['9.1.3']);
	publishing = false;
	await t.notThrowsAsync(poller);
	t.true(polls > 0);

	let seen: Awaited<ReturnType<typeof client.poll>> | undefined;
	t.true(
		await eventually(async () => {
			seen = await client.poll();
			return seen.status === 200;
		}),
	);
	t.like(seen, {status: 200, manifestVersion: '1.0.2440'});
	t.is(seen?.status === 200 ? seen.artifacts.length : 0, 7);
	t.is((await client.poll()).status, 304);
	await checkDefendVersion(t, url, own, '9.1.3');
	t.true(
		await eventually(async () => {
			const answer = await getJson<{versions: Array<{manifestVersion: string; artifacts: number}>}>(
				url,
				'/api/v1/defend',
			);
			return answer.versions[0]?.manifestVersion === '1.0.2440' && answer.versions[0].artifacts === 7;
		}),
	);
});

test('a manifest upstream has not confirmed for over 30 days is flagged on the page, in the API and by its age metric', async (t) => {
	const dir = await tempDir(t, 'serve-defend-stale-');
	const refreshedAt = new Date(Date.now() - 40 * 24 * 3600 * 1000);
	await publishDefend(dirLocation(dir), host, ['8.19.3'], {refreshedAt});
	const {url} = await withServer(t, dir);
	const page = (await request(url, '/')).text;
	t.regex(
		page,
		/<tr class="defend-version stale" id="defend-8\.19\.3"[\s\S]*?\(40 days ago\)[\s\S]*?older than 30 days/,
	);
	t.regex(page, /Holding Elastic Defend protections for 1 version\./);
	const answer = await getJson<{versions: Array<{stale: boolean; refreshedAt: string}>}>(
		url,
		'/api/v1/defend',
	);
	t.like(answer.versions[0], {stale: true, refreshedAt: refreshedAt.toISOString()});
	const age = metricValue(
		(await request(url, '/metrics')).text,
		'mirror_defend_manifest_age_seconds{version="8.19.3"}',
	);
	t.true(age !== undefined && age >= 40 * 24 * 3600 && age < 40 * 24 * 3600 + 600, String(age));
});
