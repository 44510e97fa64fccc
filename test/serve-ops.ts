import {rename} from 'node:fs/promises';
import test from 'ava';
import {getJson, request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {tempDir} from './helpers/temp.js';
import {withMirror, withServer} from './helpers/with-server.js';

test('/healthz is alive; /readyz follows whether the tree is readable', async (t) => {
	const mirror = await withMirror(t, await createTestKey(), {versions: ['9.1.3']});
	const health = await request(mirror.url, '/healthz');
	t.is(health.status, 200);
	t.is(health.text, 'ok\n');
	t.deepEqual(await getJson(mirror.url, '/readyz'), {ready: true});

	const moved = `${mirror.dir}-moved`;
	await rename(mirror.dir, moved);
	try {
		const notReady = await request(mirror.url, '/readyz');
		t.is(notReady.status, 503);
		t.false(notReady.text.includes(mirror.dir));
		t.is((await request(mirror.url, '/healthz')).status, 200);
	} finally {
		await rename(moved, mirror.dir);
	}

	t.is((await request(mirror.url, '/readyz')).status, 200);
});

test('/metrics: requests by route and status, bytes, in-flight, downloads by artifact and agent version, last sync', async (t) => {
	const mirror = await withMirror(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
	});
	const tar = '/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
	const agent = (version: string) => ({headers: {'User-Agent': `Beat elastic-agent v${version}`}});
	await request(mirror.url, tar, agent('9.0.1'));
	await request(mirror.url, tar, agent('9.0.1'));
	await request(mirror.url, tar, agent('8.19.0'));
	await request(mirror.url, `${tar}.sha512`, agent('8.19.0'));
	await request(mirror.url, tar, {headers: {'User-Agent': 'curl/8.0'}});
	// Neither a range nor a HEAD is a download.
	await request(mirror.url, tar, {headers: {Range: 'bytes=0-9', ...agent('9.0.1').headers}});
	await request(mirror.url, tar, {method: 'HEAD', ...agent('9.0.1')});
	await request(mirror.url, '/nope');
	await request(mirror.url, '/', {method: 'POST'});

	const response = await request(mirror.url, '/metrics');
	t.regex(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
	const metrics = response.text;
	const value = (series: string) => {
		const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
		return line === undefined ? undefined : Number(line.slice(series.length + 1));
	};

	t.is(value('mirror_http_requests_total{route="artifact",method="GET",status="200"}'), 4);
	t.is(value('mirror_http_requests_total{route="artifact",method="GET",status="206"}'), 1);
	t.is(value('mirror_http_requests_total{route="artifact",method="HEAD",status="200"}'), 1);
	t.is(value('mirror_http_requests_total{route="sidecar",method="GET",status="200"}'), 1);
	t.is(value('mirror_http_requests_total{route="file",method="GET",status="404"}'), 1);
	t.is(value('mirror_http_requests_total{route="other",method="POST",status="405"}'), 1);
	t.is(value('mirror_http_response_bytes_total{route="artifact"}'), 4 * 20 * 1024 + 10);
	t.is(value('mirror_http_requests_in_flight'), 1);
	t.is(
		value('mirror_artifact_downloads_total{product="elastic-agent",version="9.1.3",platform="linux-x86_64"}'),
		4,
	);
	// Agent versions the mirror does not hold are "other" (issue 14 item 24 bounds the label).
	t.is(value('mirror_agent_downloads_total{agent_version="other"}'), 3);
	t.is(value('mirror_agent_downloads_total{agent_version="9.0.1"}'), undefined);
	t.is(value('mirror_agent_downloads_total{agent_version="none"}'), 1);
	t.is(value('mirror_last_sync_success'), 1);
	const lastSync = value('mirror_last_sync_timestamp_seconds') ?? 0;
	t.true(Math.abs(lastSync - Date.now() / 1000) < 120);
	t.is(value('mirror_artifacts'), 2);
	// prom-client's defaults under their standard names (issue 14 item 24: no mirror_ prefix).
	t.true((value('process_resident_memory_bytes') ?? 0) > 0);
});

test('an empty mirror serves a helpful page, empty APIs and reports never synced', async (t) => {
	const server = await withServer(t, await tempDir(t));
	const page = await request(server.url, '/');
	t.is(page.status, 200);
	t.true(page.text.includes('Nothing synced yet'));
	t.true(page.text.includes('No artifacts yet'));
	t.deepEqual(await getJson(server.url, '/v1/versions'), {versions: [], aliases: [], manifests: {}});
	t.like(await getJson(server.url, '/api/v1/artifacts'), {count: 0, artifacts: []});
	t.like(await getJson(server.url, '/api/v1/status'), {lastRun: null, lastSuccess: null});
	const metrics = (await request(server.url, '/metrics')).text;
	t.true(metrics.includes('mirror_last_sync_success 0'));
	t.true(metrics.includes('mirror_last_sync_timestamp_seconds 0'));
});
