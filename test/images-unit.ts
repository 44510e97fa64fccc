/**
The image mirror's pure parts: `--images` and `--image-platforms` parsing, manifest
parsing and the platform filter (attestations follow the manifest they describe),
the bearer challenge, credentials from Docker's config.json and the containers auth
file (most specific key first, helpers refused), and tag closures.
*/
import {createHash} from 'node:crypto';
import {mkdir, writeFile} from 'node:fs/promises';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import test from 'ava';
import type {MirrorError} from '../src/errors.js';
import {
	blobPath,
	flatName,
	parseBlobPath,
	parseImageRequests,
	parsePlatforms,
} from '../src/images/catalog.js';
import {closureOf, missingFrom, taggedDigests, tagsReaching} from '../src/images/closure.js';
import {loadCredentials} from '../src/images/credentials.js';
import {parseManifest, selectIndexEntries} from '../src/images/media.js';
import {parseChallenge} from '../src/images/registry-auth.js';
import {createRegistrySource} from '../src/images/registry-source.js';
import {emptyManifest} from '../src/store/manifest.js';
import {createHttpClient} from '../src/upstream/client.js';
import {tempDir} from './helpers/temp.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

test('--images takes repo and repo:tag, and refuses hosts, digests and bad names with the flag named', (t) => {
	t.deepEqual(
		parseImageRequests(
			['elasticsearch/elasticsearch', ' eck/eck-operator:3.2.0', 'kibana/kibana'],
			'--images',
		),
		[
			{repository: 'elasticsearch/elasticsearch'},
			{repository: 'eck/eck-operator', tag: '3.2.0'},
			{repository: 'kibana/kibana'},
		],
	);
	const refused = (entry: string, pattern: RegExp) => {
		const error = t.throws(() => parseImageRequests([entry], '--images'));
		t.regex(error?.message ?? '', pattern, entry);
		t.regex(error?.message ?? '', /^invalid --images/);
	};

	refused('docker.elastic.co/kibana/kibana:9.1.3', /without its registry host \(kibana\/kibana:9\.1\.3\)/);
	refused('localhost:5000/kibana', /registry host/);
	refused('Kibana/Kibana', /not a repository name/);
	refused('kibana/kibana:-bad', /not a tag/);
	refused('kibana/kibana@sha256:abc', /by digest/);
	t.deepEqual(parseImageRequests(['a/b:1', 'a/b:1'], '--images'), [{repository: 'a/b', tag: '1'}]);
});

test('--image-platforms takes os/arch[/variant]', (t) => {
	t.deepEqual(parsePlatforms(['linux/amd64', 'linux/arm64/v8', 'linux/amd64'], 'x'), [
		'linux/amd64',
		'linux/arm64/v8',
	]);
	t.throws(() => parsePlatforms(['amd64'], '--image-platforms'), {message: /os\/architecture/});
});

test('blob paths and flat names', (t) => {
	t.is(blobPath(digest(1)), `oci/blobs/sha256/${digest(1).slice(7)}`);
	t.is(parseBlobPath(blobPath(digest(1))), digest(1));
	t.is(parseBlobPath('oci/blobs/sha256/ABC'), undefined);
	t.is(flatName('elasticsearch/elasticsearch', 'elastic'), 'elastic/elasticsearch');
	t.is(flatName('eck-dev/support-diagnostics', 'my/team'), 'my/team/support-diagnostics');
});

const index = (manifests: unknown[]) =>
	Buffer.from(
		JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests}),
	);

test('an index keeps the selected platforms and the attestations of kept manifests only', (t) => {
	const entry = (n: number, architecture: string, extra: object = {}) => ({
		mediaType: 'application/vnd.oci.image.manifest.v1+json',
		digest: digest(n),
		size: 100,
		platform: {os: architecture === 'unknown' ? 'unknown' : 'linux', architecture},
		...extra,
	});
	const attestation = (n: number, of: number) =>
		entry(n, 'unknown', {
			annotations: {
				'vnd.docker.reference.type': 'attestation-manifest',
				'vnd.docker.reference.digest': digest(of),
			},
		});
	const parsed = parseManifest(
		index([
			entry(1, 'amd64'),
			entry(2, 'arm64', {platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}}),
			entry(3, 's390x'),
			attestation(4, 1),
			attestation(5, 3),
		]),
		'application/vnd.oci.image.index.v1+json',
		'x',
	);
	t.is(parsed.kind, 'index');
	if (parsed.kind === 'index') {
		const kept = selectIndexEntries(parsed.manifests, ['linux/amd64', 'linux/arm64']);
		t.deepEqual(
			kept.map((each) => each.digest),
			[digest(1), digest(2), digest(4)],
		);
		t.is(kept[1]?.platform, 'linux/arm64/v8');
	}
});

test('manifests that are not what they say are refused', (t) => {
	t.throws(() => parseManifest(Buffer.from('nope'), undefined, 'x'), {message: /not JSON/});
	t.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined, 'x'), {
		message: /schemaVersion 1/,
	});
	t.throws(() => parseManifest(index([]), 'application/vnd.oci.image.manifest.v1+json', 'x'), {
		message: /served as/,
	});
	t.throws(() => parseManifest(index([{mediaType: 'a', digest: 'sha256:XY', size: 1}]), undefined, 'x'), {
		message: /not a sha256 digest/,
	});
	const error = t.throws(() =>
		parseManifest(index([{mediaType: 'a', digest: digest(1), size: -1}]), undefined, 'x'),
	);
	t.is((error as MirrorError).code, 'ERR_IMAGE');
});

test('the bearer challenge is parsed as docker.elastic.co sends it', (t) => {
	t.deepEqual(
		parseChallenge(
			'Bearer realm="https://docker-auth.elastic.co/auth",service="token-service",scope="repository:kibana/kibana:pull"',
		),
		{kind: 'bearer', realm: 'https://docker-auth.elastic.co/auth', service: 'token-service'},
	);
	t.deepEqual(parseChallenge('Basic realm="x"'), {kind: 'basic'});
	t.is(parseChallenge('Bearer service="x"'), undefined);
	t.is(parseChallenge(undefined), undefined);
});

test('credentials: the containers auth file first, most specific key first, helpers and identity tokens named', async (t) => {
	const dir = await tempDir(t);
	const basic = (user: string, pass: string) => ({auth: Buffer.from(`${user}:${pass}`).toString('base64')});
	const authFile = path.join(dir, 'auth.json');
	await writeFile(
		authFile,
		JSON.stringify({
			auths: {'registry.example/team/app': basic('team', 'a'), 'registry.example': basic('all', 'b')},
		}),
	);
	await mkdir(path.join(dir, 'docker'));
	const dockerConfig = path.join(dir, 'docker', 'config.json');
	await writeFile(
		dockerConfig,
		JSON.stringify({
			auths: {
				'https://docker.elastic.co': basic('elastic', 'c'),
				'https://index.docker.io/v1/': basic('hub', 'd'),
				'login.example': {},
			},
			credHelpers: {'helped.example': 'ecr-login'},
			credsStore: 'desktop',
			other: 1,
		}),
	);
	const store = loadCredentials([authFile, dockerConfig, path.join(dir, 'missing.json')]);
	t.like(store.lookup('registry.example', 'team/app/sub'), {kind: 'basic', username: 'team'});
	t.like(store.lookup('registry.example', 'other/app'), {kind: 'basic', username: 'all', file: authFile});
	t.like(store.lookup('docker.elastic.co', 'kibana/kibana'), {
		kind: 'basic',
		username: 'elastic',
		password: 'c',
	});
	t.like(store.lookup('registry-1.docker.io', 'library/x'), {kind: 'basic', username: 'hub'});
	t.like(store.lookup('helped.example', 'x'), {kind: 'helper', helper: 'ecr-login'});
	t.like(store.lookup('login.example', 'x'), {kind: 'helper', helper: 'desktop'});
	t.is(store.lookup('anonymous.example', 'x'), undefined);

	await writeFile(authFile, '{');
	const error = t.throws(() => loadCredentials([authFile]));
	t.regex(error?.message ?? '', /auth\.json are not JSON/);
});

test('closures: what a tag reaches, what is missing, which tags reach a blob', (t) => {
	const images = emptyManifest().images;
	images.blobs[digest(1)] = {digest: digest(1), size: 1, mediaType: 'i', refs: [digest(2)], publishedAt: ''};
	images.blobs[digest(2)] = {
		digest: digest(2),
		size: 1,
		mediaType: 'm',
		refs: [digest(3), digest(4)],
		publishedAt: '',
	};
	images.blobs[digest(3)] = {digest: digest(3), size: 1, publishedAt: ''};
	images.repositories.a = {
		'1': {digest: digest(1), mediaType: 'i', size: 1, platforms: [], publishedAt: '', refreshedAt: ''},
	};
	t.deepEqual([...closureOf(images, digest(1))].sort(), [digest(1), digest(2), digest(3), digest(4)]);
	t.deepEqual(missingFrom(images, digest(1)), [digest(4)]);
	t.deepEqual(tagsReaching(images, digest(3)), [{repository: 'a', tag: '1'}]);
	t.is(taggedDigests(images).size, 4);
});

test('a token the registry stops taking is replaced once; a manifest whose bytes miss its digest is refused', async (t) => {
	const body = Buffer.from('{"schemaVersion":2}');
	const seen: string[] = [];
	let issued = 0;
	const server = http.createServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://x');
		seen.push(`${url.pathname} ${request.headers.authorization ?? '-'}`);
		if (url.pathname === '/token') {
			t.is(url.searchParams.get('scope'), 'repository:kibana/kibana:pull');
			issued++;
			response.end(JSON.stringify({access_token: `t${issued}`}));
		} else if (request.headers.authorization !== `Bearer t${issued}` || issued < 2) {
			// The first token is refused after the ping, as one that ran out would be.
			response.writeHead(401, {
				'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="s"`,
			});
			response.end('{}');
		} else if (url.pathname.endsWith('/bad')) {
			response.writeHead(200, {'docker-content-digest': digest(9)});
			response.end(body);
		} else {
			response.end(body);
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => server.close());
	const {port} = server.address() as AddressInfo;
	const client = createHttpClient({
		timeoutMs: 5000,
		retries: 0,
		retryDelayMs: 1,
		proxy: {},
		userAgent: 'test',
	});
	t.teardown(() => client.close());
	const source = createRegistrySource(`http://127.0.0.1:${port}/`, client, undefined);
	const fetched = await source.manifest('kibana/kibana', '9.1.3');
	t.true(fetched.bytes.equals(body));
	t.is(fetched.digest, `sha256:${createHash('sha256').update(body).digest('hex')}`);
	t.is(issued, 2);
	t.deepEqual(seen.slice(-2), ['/token -', '/v2/kibana/kibana/manifests/9.1.3 Bearer t2']);
	const error = await t.throwsAsync(source.manifest('kibana/kibana', 'bad'));
	t.is((error as MirrorError).code, 'ERR_DIGEST');
	t.regex(error?.message ?? '', /Docker-Content-Digest says sha256:0+9, the bytes are sha256:/);
});

test('a registry whose /v2/ is open but whose repository challenges gets its token', async (t) => {
	const body = Buffer.from('{"schemaVersion":2}');
	const server = http.createServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://x');
		if (url.pathname === '/v2/') {
			response.end('{}');
		} else if (url.pathname === '/token') {
			response.end(JSON.stringify({token: 'granted'}));
		} else if (request.headers.authorization === 'Bearer granted') {
			response.end(body);
		} else {
			response.writeHead(401, {
				'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="s"`,
			});
			response.end('{}');
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => server.close());
	const {port} = server.address() as AddressInfo;
	const client = createHttpClient({
		timeoutMs: 5000,
		retries: 0,
		retryDelayMs: 1,
		proxy: {},
		userAgent: 'test',
	});
	t.teardown(() => client.close());
	const source = createRegistrySource(`http://127.0.0.1:${port}`, client, undefined);
	t.true((await source.manifest('private/app', '1')).bytes.equals(body));
	t.deepEqual((await source.blob('private/app', digest(1))).headers, {authorization: 'Bearer granted'});
});
