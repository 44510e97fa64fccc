/**
`serve` as an OCI registry (issue 18, "Serving"): a mirror filled by `sync --images`
from Debian's docker-registry (a multi-platform OCI index, a Docker manifest list, a
single-platform image, and ECK's two agent repositories), served on port 0 over plain
HTTP and over TLS with a test CA, read by Debian's skopeo byte for byte under the
default names and the `--container-repository` flat names; the spec's error shapes,
HEAD, ranges, pagination, the flat-name merge and refusal, and the pull metrics.

Over 300 lines because every test here reads the one mirror filled once for the file.
*/
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {Writable} from 'node:stream';
import type {ExecutionContext} from 'ava';
import test from 'ava';
import {pino} from 'pino';
import {type RunningServer, startServer} from '../src/server/serve.js';
import {dirLocation} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {type PushedImage, pushMultiPlatform, pushSinglePlatform, sha256Digest} from './helpers/oci-images.js';
import {ensureRegistry, type RunningRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {dirBlobs, layoutBlobs, skopeo} from './helpers/skopeo.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates} from './helpers/tls.js';
import {withServer} from './helpers/with-server.js';

const gated = gatedTest('the image serving tests (docker-registry, skopeo)', await ensureRegistry());

const images = [
	'elasticsearch/elasticsearch:9.1.3',
	'kibana/kibana:9.1.3',
	'eck/eck-operator:3.2.0',
	'beats/elastic-agent:8.19.0',
	'elastic-agent/elastic-agent:9.1.3',
];

type Served = {
	registry: RunningRegistry;
	dir: string;
	http: RunningServer;
	https: RunningServer;
	certDir: string;
	caFile: string;
	pushed: Map<string, PushedImage>;
};

const shared = sharedTeardown();
test.after.always(() => shared.run());

/** Sync `list` from `registry` into a new mirror directory (no real credentials read). */
async function syncInto(dir: string, registry: RunningRegistry, list: readonly string[]) {
	const {summary} = await runSync(
		{
			dir,
			upstream: 'http://127.0.0.1:9',
			'versions-api': 'http://127.0.0.1:9/v1/versions',
			'no-verify': true,
			'retry-delay': '5',
			timeout: '5',
			images: list.join(','),
			'image-registry': registry.url,
		},
		{DOCKER_CONFIG: dir, HOME: dir},
	);
	if (summary.result !== 'success') {
		throw new Error(`image sync failed: ${JSON.stringify(summary.failed)}`);
	}
}

let served: Promise<Served> | undefined;
function filled(): Promise<Served> {
	served ??= (async () => {
		const registry = await startRegistry(shared);
		const pushed = new Map<string, PushedImage>([
			[
				'elasticsearch/elasticsearch:9.1.3',
				await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3'),
			],
			[
				'kibana/kibana:9.1.3',
				await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {format: 'docker'}),
			],
			[
				'eck/eck-operator:3.2.0',
				await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64'),
			],
			[
				'beats/elastic-agent:8.19.0',
				await pushSinglePlatform(registry.url, 'beats/elastic-agent', '8.19.0', 'linux/amd64'),
			],
			[
				'beats/elastic-agent:9.1.3',
				await pushSinglePlatform(registry.url, 'beats/elastic-agent', '9.1.3', 'linux/amd64'),
			],
			[
				'elastic-agent/elastic-agent:9.1.3',
				await pushSinglePlatform(registry.url, 'elastic-agent/elastic-agent', '9.1.3', 'linux/arm64'),
			],
		]);
		const dir = await tempDir(shared, 'mirror-serve-images-');
		await syncInto(dir, registry, images);
		const certDir = await tempDir(shared, 'mirror-certs-');
		const certificates = createCertificates(certDir);
		const http = await withServer(shared, dir, {containerRepository: 'elastic'});
		const https = await withServer(shared, dir, {
			containerRepository: 'elastic',
			tls: {certPath: path.join(certDir, 'server.pem'), keyPath: path.join(certDir, 'server.key')},
		});
		return {registry, dir, http, https, certDir, caFile: certificates.caFile, pushed};
	})();
	return served;
}

/** The manifest bytes a tag points to upstream (the index, or the one manifest). */
function tagged(image: PushedImage | undefined): {digest: string; bytes: Buffer} {
	const top = image?.index ?? image?.manifests[0];
	if (!top) throw new Error('no pushed image');
	return top;
}

/** Every blob upstream holds for `image`: layers, configs, manifests, the index. */
function upstreamBlobs(image: PushedImage | undefined): Map<string, Buffer> {
	const all = new Map(image?.blobs ?? []);
	for (const manifest of [...(image?.index ? [image.index] : []), ...(image?.manifests ?? [])]) {
		all.set(manifest.digest, manifest.bytes);
	}

	return all;
}

function hostOf(server: RunningServer): string {
	return new URL(server.url).host;
}

/** A request to the plain HTTP server. */
async function get(path: string, init: RequestInit = {}): Promise<Response> {
	const {http} = await filled();
	return fetch(`${http.url}${path}`, {redirect: 'manual', ...init});
}

gated('skopeo inspect --raw reads every tag byte for byte under both names', async (t) => {
	const {http, pushed} = await filled();
	const cases = [
		['elasticsearch/elasticsearch:9.1.3', 'elasticsearch/elasticsearch:9.1.3'],
		['kibana/kibana:9.1.3', 'kibana/kibana:9.1.3'],
		['eck/eck-operator:3.2.0', 'eck/eck-operator:3.2.0'],
		['elastic/elasticsearch:9.1.3', 'elasticsearch/elasticsearch:9.1.3'],
		['elastic/eck-operator:3.2.0', 'eck/eck-operator:3.2.0'],
		['elastic/elastic-agent:8.19.0', 'beats/elastic-agent:8.19.0'],
		['elastic/elastic-agent:9.1.3', 'elastic-agent/elastic-agent:9.1.3'],
	];
	for (const [reference, source] of cases) {
		const outcome = await skopeo(t, [
			'inspect',
			'--raw',
			'--tls-verify=false',
			`docker://${hostOf(http)}/${reference}`,
		]);
		t.is(outcome.code, 0, outcome.stderr);
		const upstream = tagged(pushed.get(source ?? ''));
		t.is(sha256Digest(outcome.stdout), upstream.digest, reference);
	}
});

gated('skopeo inspect lists the tags of a merged flat name', async (t) => {
	const {http} = await filled();
	const outcome = await skopeo(t, [
		'inspect',
		'--tls-verify=false',
		'--override-os=linux',
		'--override-arch=arm64',
		`docker://${hostOf(http)}/elastic/elastic-agent:9.1.3`,
	]);
	t.is(outcome.code, 0, outcome.stderr);
	const inspected = JSON.parse(outcome.stdout.toString()) as {RepoTags: string[]; Name: string};
	t.deepEqual(inspected.RepoTags, ['8.19.0', '9.1.3']);
});

/** `skopeo copy --all --preserve-digests` of `reference` from `server`, every blob compared with upstream's. */
async function copyAndCompare(
	t: ExecutionContext,
	server: RunningServer,
	reference: string,
	source: string,
	tls: string[],
) {
	const {pushed} = await filled();
	const out = await tempDir(t, 'mirror-oci-');
	const tag = reference.slice(reference.lastIndexOf(':') + 1);
	// A Docker manifest list cannot go into an oci: layout unconverted; dir: keeps it.
	const docker = source.startsWith('kibana/');
	const outcome = await skopeo(t, [
		'copy',
		'--all',
		'--preserve-digests',
		...tls,
		`docker://${hostOf(server)}/${reference}`,
		docker ? `dir:${out}` : `oci:${out}:${tag}`,
	]);
	t.is(outcome.code, 0, outcome.stderr);
	const upstream = upstreamBlobs(pushed.get(source));
	const copied = docker ? await dirBlobs(out) : await layoutBlobs(out);
	t.is(copied.size, upstream.size, reference);
	for (const [digest, bytes] of copied) {
		t.true(upstream.get(digest)?.equals(bytes), `${reference} ${digest}`);
	}

	if (docker) {
		t.true(copied.has(tagged(pushed.get(source)).digest), reference);
		return;
	}

	const index = JSON.parse(await readFile(path.join(out, 'index.json'), 'utf8')) as {
		manifests: {digest: string}[];
	};
	t.is(index.manifests[0]?.digest, tagged(pushed.get(source)).digest);
}

gated('skopeo copy --all over TLS with the test CA keeps every upstream digest', async (t) => {
	const {https, caFile} = await filled();
	const certs = await tempDir(t, 'mirror-ca-');
	await writeFile(path.join(certs, 'ca.crt'), await readFile(caFile));
	await copyAndCompare(t, https, 'elasticsearch/elasticsearch:9.1.3', 'elasticsearch/elasticsearch:9.1.3', [
		'--src-cert-dir',
		certs,
	]);
	await copyAndCompare(t, https, 'elastic/kibana:9.1.3', 'kibana/kibana:9.1.3', ['--src-cert-dir', certs]);
});

gated('skopeo copy --all over plain HTTP, default and flat names', async (t) => {
	const {http} = await filled();
	const plain = ['--src-tls-verify=false'];
	await copyAndCompare(t, http, 'kibana/kibana:9.1.3', 'kibana/kibana:9.1.3', plain);
	await copyAndCompare(t, http, 'elastic/eck-operator:3.2.0', 'eck/eck-operator:3.2.0', plain);
	await copyAndCompare(t, http, 'elastic/elastic-agent:8.19.0', 'beats/elastic-agent:8.19.0', plain);
});

async function errorOf(response: Response): Promise<string | undefined> {
	const body = (await response.json()) as {errors: {code: string}[]};
	return body.errors[0]?.code;
}

gated('the base, 404 and 400 codes and the 405 shape', async (t) => {
	const base = await get('/v2/');
	t.is(base.status, 200);
	t.is(base.headers.get('docker-distribution-api-version'), 'registry/2.0');
	t.deepEqual(await base.json(), {});
	const digest = `sha256:${'0'.repeat(64)}`;
	const cases: Array<[string, number, string]> = [
		['/v2/nope/nope/manifests/1.0', 404, 'NAME_UNKNOWN'],
		['/v2/eck/eck-operator/manifests/9.9.9', 404, 'MANIFEST_UNKNOWN'],
		[`/v2/eck/eck-operator/manifests/${digest}`, 404, 'MANIFEST_UNKNOWN'],
		[`/v2/eck/eck-operator/blobs/${digest}`, 404, 'BLOB_UNKNOWN'],
		['/v2/nope/tags/list', 404, 'NAME_UNKNOWN'],
		['/v2/Bad/Name/manifests/1.0', 400, 'NAME_INVALID'],
		['/v2/eck/eck-operator/manifests/-bad', 400, 'TAG_INVALID'],
		['/v2/eck/eck-operator/blobs/sha256:xyz', 400, 'DIGEST_INVALID'],
	];
	for (const [url, status, code] of cases) {
		const response = await get(url);
		t.is(response.status, status, url);
		t.is(response.headers.get('docker-distribution-api-version'), 'registry/2.0', url);
		t.regex(response.headers.get('content-type') ?? '', /^application\/json/, url);
		t.is(await errorOf(response), code, url);
	}

	for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
		const response = await get('/v2/eck/eck-operator/blobs/uploads/', {method});
		t.is(response.status, 405, method);
		t.is(response.headers.get('allow'), 'GET, HEAD');
		t.is(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
		t.deepEqual(await response.json(), {
			errors: [{code: 'UNSUPPORTED', message: 'The operation is unsupported.'}],
		});
	}
});

gated('a blob of another repository is not served under this name; the tree hides oci/', async (t) => {
	const {pushed} = await filled();
	const kibanaOnly = [...(pushed.get('kibana/kibana:9.1.3')?.blobs.keys() ?? [])].find(
		(digest) => !pushed.get('eck/eck-operator:3.2.0')?.blobs.has(digest),
	);
	t.truthy(kibanaOnly);
	t.is((await get(`/v2/kibana/kibana/blobs/${kibanaOnly}`)).status, 200);
	const other = await get(`/v2/eck/eck-operator/blobs/${kibanaOnly}`);
	t.is(other.status, 404);
	t.is(await errorOf(other), 'BLOB_UNKNOWN');
	t.is((await get(`/oci/blobs/sha256/${kibanaOnly?.slice(7)}`)).status, 404);
	t.is((await get('/oci/')).status, 404);
});

gated('HEAD and GET of a manifest: headers, Accept, caching', async (t) => {
	const {pushed} = await filled();
	const index = tagged(pushed.get('elasticsearch/elasticsearch:9.1.3'));
	const ociIndex = 'application/vnd.oci.image.index.v1+json';
	const head = await get('/v2/elasticsearch/elasticsearch/manifests/9.1.3', {method: 'HEAD'});
	t.is(head.status, 200);
	t.is(head.headers.get('content-type'), ociIndex);
	t.is(head.headers.get('docker-content-digest'), index.digest);
	t.is(head.headers.get('content-length'), String(index.bytes.length));
	t.is(head.headers.get('etag'), `"${index.digest}"`);
	t.is(head.headers.get('cache-control'), 'no-cache');
	t.is((await head.arrayBuffer()).byteLength, 0);
	const byDigest = await get(`/v2/elasticsearch/elasticsearch/manifests/${index.digest}`, {
		headers: {Accept: `application/vnd.docker.distribution.manifest.v2+json, ${ociIndex}; q=0.5`},
	});
	t.is(byDigest.status, 200);
	t.is(byDigest.headers.get('cache-control'), 'public, max-age=31536000, immutable');
	t.true(Buffer.from(await byDigest.arrayBuffer()).equals(index.bytes));
	const refused = await get('/v2/elasticsearch/elasticsearch/manifests/9.1.3', {
		headers: {Accept: 'application/vnd.docker.distribution.manifest.list.v2+json'},
	});
	t.is(refused.status, 404);
	const body = (await refused.json()) as {errors: {code: string; message: string}[]};
	t.is(body.errors[0]?.code, 'MANIFEST_UNKNOWN');
	t.true(body.errors[0]?.message.includes(ociIndex));
	const star = await get('/v2/elasticsearch/elasticsearch/manifests/9.1.3', {
		headers: {Accept: 'text/plain, */*'},
	});
	t.is(star.status, 200);
	await star.arrayBuffer();
});

gated('a blob by range, HEAD and 416', async (t) => {
	const {pushed} = await filled();
	const image = pushed.get('eck/eck-operator:3.2.0');
	const [digest, bytes] = [...(image?.blobs ?? [])].find(([, each]) => each.length > 10) ?? [];
	t.truthy(digest && bytes);
	const url = `/v2/elastic/eck-operator/blobs/${digest}`;
	const ranged = await get(url, {headers: {Range: 'bytes=2-9'}});
	t.is(ranged.status, 206);
	t.is(ranged.headers.get('content-range'), `bytes 2-9/${bytes?.length}`);
	t.is(ranged.headers.get('accept-ranges'), 'bytes');
	t.true(Buffer.from(await ranged.arrayBuffer()).equals(bytes?.subarray(2, 10) ?? Buffer.alloc(1)));
	const head = await get(url, {method: 'HEAD'});
	t.is(head.status, 200);
	t.is(head.headers.get('content-type'), 'application/octet-stream');
	t.is(head.headers.get('docker-content-digest'), digest ?? '');
	t.is(head.headers.get('content-length'), String(bytes?.length));
	t.is(head.headers.get('cache-control'), 'public, max-age=31536000, immutable');
	const beyond = await get(url, {headers: {Range: `bytes=${(bytes?.length ?? 0) + 5}-`}});
	t.is(beyond.status, 416);
	await beyond.arrayBuffer();
});

gated('tags/list and _catalog, paginated with Link', async (t) => {
	const tags = await get('/v2/elastic/elastic-agent/tags/list?n=1');
	t.is(tags.status, 200);
	t.deepEqual(await tags.json(), {name: 'elastic/elastic-agent', tags: ['8.19.0']});
	t.is(tags.headers.get('link'), '</v2/elastic/elastic-agent/tags/list?n=1&last=8.19.0>; rel="next"');
	const rest = await get('/v2/elastic/elastic-agent/tags/list?n=1&last=8.19.0');
	t.deepEqual(await rest.json(), {name: 'elastic/elastic-agent', tags: ['9.1.3']});
	t.is(rest.headers.get('link'), null);
	const all = [
		'beats/elastic-agent',
		'eck/eck-operator',
		'elastic-agent/elastic-agent',
		'elastic/eck-operator',
		'elastic/elastic-agent',
		'elastic/elasticsearch',
		'elastic/kibana',
		'elasticsearch/elasticsearch',
		'kibana/kibana',
	];
	t.deepEqual(await (await get('/v2/_catalog')).json(), {repositories: all});
	const first = await get('/v2/_catalog?n=4');
	t.deepEqual(await first.json(), {repositories: all.slice(0, 4)});
	t.is(first.headers.get('link'), `</v2/_catalog?n=4&last=${encodeURIComponent(all[3] ?? '')}>; rel="next"`);
	const second = await get(`/v2/_catalog?n=4&last=${encodeURIComponent(all[3] ?? '')}`);
	t.deepEqual(await second.json(), {repositories: all.slice(4, 8)});
	t.is((await get('/v2/_catalog?n=-1')).status, 400);
});

gated('pull metrics count manifests and blobs by the default name', async (t) => {
	const {http, pushed} = await filled();
	const metric = async (name: string, repository: string) => {
		const text = await (await fetch(`${http.url}/metrics`)).text();
		const line = text.split('\n').find((each) => each.startsWith(`${name}{repository="${repository}"}`));
		return Number(line?.split(' ')[1] ?? 0);
	};

	const manifests = await metric('mirror_image_manifest_pulls_total', 'beats/elastic-agent');
	const blobs = await metric('mirror_image_blob_pulls_total', 'beats/elastic-agent');
	const image = pushed.get('beats/elastic-agent:8.19.0');
	const [digest] = [...(image?.blobs.keys() ?? [])];
	await (await get('/v2/elastic/elastic-agent/manifests/8.19.0')).arrayBuffer();
	await (await get('/v2/beats/elastic-agent/manifests/8.19.0')).arrayBuffer();
	await (await get('/v2/beats/elastic-agent/manifests/8.19.0', {method: 'HEAD'})).arrayBuffer();
	await (await get(`/v2/elastic/elastic-agent/blobs/${digest}`)).arrayBuffer();
	await (await get(`/v2/elastic/elastic-agent/blobs/${digest}`, {method: 'HEAD'})).arrayBuffer();
	t.is(await metric('mirror_image_manifest_pulls_total', 'beats/elastic-agent'), manifests + 2);
	t.is(await metric('mirror_image_blob_pulls_total', 'beats/elastic-agent'), blobs + 1);
	t.is(await metric('mirror_image_manifest_pulls_total', 'elastic/elastic-agent'), 0);
});

gated(
	'a flat-name clash: refused at start (exit 2, one line), 404 when a sync makes it while serving',
	async (t) => {
		const {registry} = await filled();
		const dir = await tempDir(t, 'mirror-clash-');
		await syncInto(dir, registry, ['elastic-agent/elastic-agent:9.1.3', 'beats/elastic-agent:8.19.0']);
		const logged: string[] = [];
		const logger = pino(
			{level: 'info'},
			new Writable({
				write(chunk: Buffer, _encoding, done) {
					logged.push(chunk.toString());
					done();
				},
			}),
		);
		const server = await startServer(
			{
				location: dirLocation(dir),
				host: '127.0.0.1',
				port: 0,
				publicUrl: undefined,
				tls: undefined,
				trustProxy: false,
				drainTimeoutMs: 5000,
				accessLog: false,
				syncSchedule: undefined,
				containerRepository: 'elastic',
			},
			logger,
		);
		t.teardown(async () => {
			await server.shutdown();
		});
		const flat = `${server.url}/v2/elastic/elastic-agent/manifests/9.1.3`;
		t.is((await fetch(flat, {method: 'HEAD'})).status, 200);
		await syncInto(dir, registry, [
			'elastic-agent/elastic-agent:9.1.3',
			'beats/elastic-agent:8.19.0',
			'beats/elastic-agent:9.1.3',
		]);
		const clashed = await fetch(flat);
		t.is(clashed.status, 404);
		t.is(await errorOf(clashed), 'MANIFEST_UNKNOWN');
		t.is(
			(await fetch(`${server.url}/v2/elastic/elastic-agent/manifests/8.19.0`, {method: 'HEAD'})).status,
			200,
		);
		t.is((await fetch(`${server.url}/v2/beats/elastic-agent/manifests/9.1.3`, {method: 'HEAD'})).status, 200);
		t.is((await fetch(flat)).status, 404);
		const warnings = logged.filter((line) => line.includes('would both be elastic/elastic-agent:9.1.3'));
		t.is(warnings.length, 1, logged.join(''));
		const refused = await runCli(['serve', '--dir', dir, '--port', '0', '--container-repository', 'elastic']);
		t.is(refused.code, 2);
		const lines = refused.stderr.trim().split('\n');
		t.is(lines.length, 1, refused.stderr);
		t.true(
			lines[0]?.includes(
				'beats/elastic-agent and elastic-agent/elastic-agent would both be elastic/elastic-agent:9.1.3',
			),
			refused.stderr,
		);
		const fromEnv = await runCli(['serve', '--dir', dir, '--port', '0'], {
			env: {MIRROR_CONTAINER_REPOSITORY: 'elastic'},
		});
		t.is(fromEnv.code, 2, fromEnv.stderr);
		t.true(fromEnv.stderr.includes('would both be elastic/elastic-agent:9.1.3'), fromEnv.stderr);
		const invalid = await runCli(['serve', '--dir', dir, '--port', '0', '--container-repository', 'Elastic']);
		t.is(invalid.code, 2);
		t.is(invalid.stderr.trim().split('\n').length, 1, invalid.stderr);
	},
);
