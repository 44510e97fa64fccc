import {mkdir, writeFile} from 'node:fs/promises';
import {gunzipSync} from 'node:zlib';
import test from 'ava';
import {newestVersionsShown} from '../src/server/views/catalogue.js';
import {layout} from '../src/store/layout.js';
import {request} from './helpers/http.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const platforms = [
	['linux-x86_64', 'linux-x86_64.tar.gz'],
	['linux-arm64', 'linux-arm64.tar.gz'],
	['darwin-aarch64', 'darwin-aarch64.tar.gz'],
	['windows-x86_64', 'windows-x86_64.zip'],
] as const;
const products = [
	['elastic-agent', 'beats/elastic-agent'],
	['fleet-server', 'fleet-server'],
] as const;

/** A mirror whose manifest lists 2 products × 2,500 versions × 4 platforms: 20,000 artifacts (none on disk). */
async function bigMirror(dir: string): Promise<{paths: string[]; newest: string}> {
	const files: Record<string, unknown> = {};
	const versions = Array.from({length: 2500}, (_, index) => `8.${Math.floor(index / 50)}.${index % 50}`);
	for (const version of versions) {
		for (const [product, folder] of products) {
			for (const [platform, suffix] of platforms) {
				const path = `downloads/${folder}/${product}-${version}-${suffix}`;
				files[path] = {
					path,
					product,
					version,
					platform,
					fips: false,
					size: 1000,
					sha512: 'ab'.repeat(64),
					publishedAt: '2026-01-15T10:00:00.000Z',
				};
			}
		}
	}

	const mirror = layout(dir);
	await mkdir(mirror.state, {recursive: true});
	await writeFile(mirror.manifest, JSON.stringify({schema: 1, files, keys: {}}));
	const run = {
		startedAt: '2026-01-15T09:00:00.000Z',
		finishedAt: '2026-01-15T10:00:00.000Z',
		result: 'success',
		counts: {published: 20_000, present: 0, notPublished: 0, failed: 0, bytes: 0},
	};
	await writeFile(mirror.status, JSON.stringify({lastRun: run, lastSuccess: run, history: [run]}));
	return {paths: Object.keys(files), newest: versions.at(-1) ?? ''};
}

function metric(text: string, series: string): number {
	const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
	return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

test('with 20,000 artifacts, / is bounded and cached, and /api/v1/artifacts is complete, valid, cached and revalidates', async (t) => {
	const dir = await tempDir(t);
	const {paths, newest} = await bigMirror(dir);
	const server = await withServer(t, dir);

	const first = await request(server.url, '/');
	t.is(first.status, 200);
	t.true(first.body.length < 512 * 1024, `/ is ${first.body.length} bytes`);
	// The newest versions of each product are there, the rest are counted and linked.
	t.is([...first.text.matchAll(/<tr class="version"/g)].length, 2 * newestVersionsShown);
	t.true(first.text.includes(`data-version="${newest}"`));
	t.regex(
		first.text,
		/2490 older versions are not shown here: see <a href="\.\/downloads\/beats\/elastic-agent\/">/,
	);
	t.regex(first.text, /<a href="\.\/api\/v1\/artifacts\?product=fleet-server">the API<\/a>/);
	const second = await request(server.url, '/');
	t.is(second.text, first.text);
	let metrics = (await request(server.url, '/metrics')).text;
	t.is(metric(metrics, 'mirror_cached_answers_total{route="page"}'), 1);

	const api = await request(server.url, '/api/v1/artifacts');
	t.is(api.status, 200);
	t.regex(String(api.headers['content-type']), /^application\/json/);
	const body = JSON.parse(api.text) as {
		count: number;
		artifacts: Array<{path: string; version: string; url: string}>;
		keys: unknown[];
	};
	t.is(body.count, 20_000);
	t.is(body.artifacts.length, 20_000);
	t.deepEqual(body.artifacts.map((artifact) => artifact.path).sort(), [...paths].sort());
	t.is(body.artifacts[0]?.version, newest, 'newest first');
	t.is(body.artifacts[0]?.url, `${server.url}/${body.artifacts[0]?.path}`);
	t.deepEqual(body.keys, []);

	const again = await request(server.url, '/api/v1/artifacts');
	t.is(again.text, api.text);
	const etag = String(again.headers.etag);
	t.regex(etag, /^"[0-9a-f]{40}"$/);
	t.is((await request(server.url, '/api/v1/artifacts', {headers: {'If-None-Match': etag}})).status, 304);
	metrics = (await request(server.url, '/metrics')).text;
	t.is(metric(metrics, 'mirror_cached_answers_total{route="api"}'), 2);

	const filtered = JSON.parse(
		(await request(server.url, `/api/v1/artifacts?product=fleet-server&version=${newest}`)).text,
	) as {count: number; artifacts: Array<{path: string}>};
	t.is(filtered.count, 4);
	t.true(filtered.artifacts.every((artifact) => artifact.path.startsWith('downloads/fleet-server/')));
});

test('a large JSON answer is gzipped for a client that accepts it, kept gzipped, and inflated for one that does not', async (t) => {
	const dir = await tempDir(t);
	await bigMirror(dir);
	const server = await withServer(t, dir);
	const gzip = {'Accept-Encoding': 'gzip'};

	// Built for a gzip client first: it gets the gzipped stream, the cache gets the same.
	const built = await request(server.url, '/api/v1/artifacts', {headers: gzip});
	t.is(built.status, 200);
	t.is(built.headers['content-encoding'], 'gzip');
	t.regex(String(built.headers.vary), /Accept-Encoding/i);
	const text = gunzipSync(built.body).toString('utf8');
	t.is((JSON.parse(text) as {count: number}).count, 20_000);

	// From the cache: the same text inflated for a plain client, with its length.
	const plain = await request(server.url, '/api/v1/artifacts');
	t.is(plain.headers['content-encoding'], undefined);
	t.is(plain.text, text);
	t.is(Number(plain.headers['content-length']), Buffer.byteLength(text));
	const cachedGzip = await request(server.url, '/api/v1/artifacts', {headers: gzip});
	t.is(cachedGzip.headers['content-encoding'], 'gzip');
	t.true(cachedGzip.body.length * 4 < plain.body.length, 'kept and sent compressed');
	t.is(gunzipSync(cachedGzip.body).toString('utf8'), text);

	// Two representations, two ETags; each revalidates.
	const plainTag = String(plain.headers.etag);
	const gzipTag = String(cachedGzip.headers.etag);
	t.not(plainTag, gzipTag);
	t.is((await request(server.url, '/api/v1/artifacts', {headers: {'If-None-Match': plainTag}})).status, 304);
	t.is(
		(await request(server.url, '/api/v1/artifacts', {headers: {...gzip, 'If-None-Match': gzipTag}})).status,
		304,
	);
	t.is((await request(server.url, '/api/v1/artifacts', {headers: {'If-None-Match': gzipTag}})).status, 200);
	const metrics = (await request(server.url, '/metrics')).text;
	t.is(metric(metrics, 'mirror_cached_answers_total{route="api"}'), 5);
});
