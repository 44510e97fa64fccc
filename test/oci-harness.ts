/**
The container image test harness (issue 18) against the real clients: images
generated and pushed into Debian's docker-registry, read back byte for byte by
skopeo, directly and through the token proxy that challenges like
docker.elastic.co (anonymous tokens, Basic credentials, per-repository scopes,
blob redirects, a corrupted blob). The mirror's own tests build on these helpers;
this file shows that the helpers are what the mirror tests take them for.

Over 300 lines because each test pins one behaviour of the harness that the
mirror's tests will lean on, all against one registry filled once for the file.
*/
import {execFile} from 'node:child_process';
import {readFile, writeFile} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import test from 'ava';
import {gatedTest} from './helpers/gate.js';
import {
	mediaTypes,
	type PushedImage,
	type PushedManifest,
	pushMultiPlatform,
	pushSinglePlatform,
	sha256Digest,
} from './helpers/oci-images.js';
import {ensureRegistry, type RunningRegistry, startRegistry} from './helpers/oci-registry.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {startTokenProxy, tokenService} from './helpers/token-proxy.js';

const gated = gatedTest(
	'the container image harness tests (docker-registry, skopeo)',
	await ensureRegistry(),
);

/** One registry for the file, filled once, on first use (a skipped file starts nothing). */
type Upstream = {
	registry: RunningRegistry;
	multi: PushedImage;
	dockerList: PushedImage;
	single: PushedImage;
	/** The index the multi-platform tag points to (pushMultiPlatform always makes one). */
	multiIndex: PushedManifest;
	/** The Docker manifest list of kibana/kibana:9.1.3. */
	dockerIndex: PushedManifest;
};

function indexOf(image: PushedImage): PushedManifest {
	if (!image.index) {
		throw new Error('a multi-platform push came back without its index');
	}

	return image.index;
}

const shared = sharedTeardown();
let upstream: Promise<Upstream> | undefined;
function filled(): Promise<Upstream> {
	upstream ??= (async () => {
		const registry = await startRegistry(shared);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const dockerList = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {format: 'docker'});
		const single = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		return {
			registry,
			multi,
			dockerList,
			single,
			multiIndex: indexOf(multi),
			dockerIndex: indexOf(dockerList),
		};
	})();
	return upstream;
}

test.after.always(() => shared.run());

type Outcome = {code: number; stdout: Buffer; stderr: string};

/**
Run skopeo to its end without throwing. The signature policy is waived (these
images are unsigned and the policy file is the machine's, not the test's) and the
auth file points into the test's directory, so a user's saved logins play no part.
*/
async function skopeo(t: ExecutionContext, args: readonly string[]): Promise<Outcome> {
	const dir = await tempDir(t, 'mirror-skopeo-');
	return new Promise((resolve) => {
		execFile(
			'skopeo',
			['--insecure-policy', ...args],
			{
				encoding: 'buffer',
				timeout: 60_000,
				env: {...process.env, REGISTRY_AUTH_FILE: path.join(dir, 'auth.json'), XDG_RUNTIME_DIR: dir},
			},
			(error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
				resolve({code, stdout, stderr: stderr.toString()});
			},
		);
	});
}

/** `skopeo inspect --raw` of `reference` (host/name:tag) over plain HTTP. */
function inspectRaw(t: ExecutionContext, reference: string, ...extra: string[]): Promise<Outcome> {
	return skopeo(t, ['inspect', '--raw', '--tls-verify=false', ...extra, `docker://${reference}`]);
}

gated(
	'skopeo reads the pushed OCI index, Docker manifest list and single manifest byte for byte',
	async (t) => {
		const {registry, multiIndex, dockerIndex, single} = await filled();
		const cases: Array<[string, {digest: string; bytes: Buffer} | undefined]> = [
			['elasticsearch/elasticsearch:9.1.3', multiIndex],
			['kibana/kibana:9.1.3', dockerIndex],
			['eck/eck-operator:3.2.0', single.manifests[0]],
		];
		for (const [reference, pushed] of cases) {
			const outcome = await inspectRaw(t, `${registry.host}/${reference}`);
			t.is(outcome.code, 0, outcome.stderr);
			t.truthy(pushed, reference);
			t.is(sha256Digest(outcome.stdout), pushed?.digest ?? 'no digest', reference);
			t.true(outcome.stdout.equals(pushed?.bytes ?? Buffer.alloc(0)), reference);
		}
	},
);

gated('the two platform manifests share one layer, pushed once', async (t) => {
	const {registry, multi} = await filled();
	const [amd64, arm64] = multi.manifests;
	t.deepEqual(
		multi.manifests.map((manifest) => manifest.platform),
		['linux/amd64', 'linux/arm64'],
	);
	t.truthy(multi.sharedLayer);
	t.is(amd64?.layers[0], multi.sharedLayer);
	t.is(arm64?.layers[0], multi.sharedLayer);
	t.not(amd64?.layers[1], arm64?.layers[1]);
	// Two configs, two own layers, one shared layer.
	t.is(multi.blobs.size, 5);
	for (const [digest, bytes] of multi.blobs) {
		const response = await fetch(`${registry.url}/v2/elasticsearch/elasticsearch/blobs/${digest}`);
		t.is(response.headers.get('docker-content-digest'), digest);
		t.true(Buffer.from(await response.arrayBuffer()).equals(bytes));
	}
});

gated(
	'the proxy challenges like docker.elastic.co: realm, service, scope and the spec error JSON',
	async (t) => {
		const {registry} = await filled();
		const proxy = await startTokenProxy(t, registry.url);
		const response = await fetch(`${proxy.url}/v2/elasticsearch/elasticsearch/manifests/9.1.3`);
		t.is(response.status, 401);
		t.is(
			response.headers.get('www-authenticate'),
			`Bearer realm="${proxy.url}/token",service="${tokenService}",scope="repository:elasticsearch/elasticsearch:pull"`,
		);
		const body = (await response.json()) as {errors: Array<{code: string}>};
		t.is(body.errors[0]?.code, 'UNAUTHORIZED');

		const base = await fetch(`${proxy.url}/v2/`);
		await base.arrayBuffer();
		t.is(base.status, 401);
		t.is(base.headers.get('www-authenticate'), `Bearer realm="${proxy.url}/token",service="${tokenService}"`);
	},
);

gated('a token for one repository is refused for another', async (t) => {
	const {registry, multiIndex, dockerIndex} = await filled();
	const proxy = await startTokenProxy(t, registry.url);
	const issued = await fetch(
		`${proxy.url}/token?service=${tokenService}&scope=${encodeURIComponent('repository:elasticsearch/elasticsearch:pull')}`,
	);
	const body = (await issued.json()) as {
		token: string;
		access_token: string;
		expires_in: number;
		issued_at: string;
	};
	t.is(body.access_token, body.token);
	t.is(body.expires_in, 300);
	const get = (name: string, accept: string) =>
		fetch(`${proxy.url}/v2/${name}/manifests/9.1.3`, {
			headers: {authorization: `Bearer ${body.token}`, accept},
		});

	const allowed = await get('elasticsearch/elasticsearch', multiIndex.mediaType);
	t.is(allowed.status, 200);
	t.is(allowed.headers.get('docker-content-digest'), multiIndex.digest);
	t.is(allowed.headers.get('content-type'), multiIndex.mediaType);
	t.true(Buffer.from(await allowed.arrayBuffer()).equals(multiIndex.bytes));

	const refused = await get('kibana/kibana', dockerIndex.mediaType);
	await refused.arrayBuffer();
	t.is(refused.status, 401);
	t.regex(
		refused.headers.get('www-authenticate') ?? '',
		/scope="repository:kibana\/kibana:pull",error="insufficient_scope"/,
	);
});

gated('the proxy passes on every one of repeated Accept lines', async (t) => {
	const {registry, multiIndex} = await filled();
	const proxy = await startTokenProxy(t, registry.url);
	const scope = encodeURIComponent('repository:elasticsearch/elasticsearch:pull');
	const {token} = (await (
		await fetch(`${proxy.url}/token?service=${tokenService}&scope=${scope}`)
	).json()) as {
		token: string;
	};
	// fetch() would join the lines into one; node:http sends an array as repeated lines, as Go clients
	// do. docker-registry answers the index only when its type is among them (the first line alone:
	// 404), so a proxy that kept one line fails here.
	const answer = await new Promise<{status: number; digest: string | undefined}>((resolve, reject) => {
		http
			.get(
				`${proxy.url}/v2/elasticsearch/elasticsearch/manifests/9.1.3`,
				{
					headers: {
						authorization: `Bearer ${token}`,
						accept: [mediaTypes.oci.manifest, mediaTypes.oci.index],
					},
				},
				(response) => {
					response.resume();
					response.on('end', () =>
						resolve({
							status: response.statusCode ?? 0,
							digest: response.headers['docker-content-digest'] as string | undefined,
						}),
					);
				},
			)
			.on('error', reject);
	});
	t.deepEqual(answer, {status: 200, digest: multiIndex.digest});
});

gated('skopeo gets anonymous tokens through the proxy', async (t) => {
	const {registry, multiIndex} = await filled();
	const proxy = await startTokenProxy(t, registry.url);
	const outcome = await inspectRaw(t, `${proxy.host}/elasticsearch/elasticsearch:9.1.3`);
	t.is(outcome.code, 0, outcome.stderr);
	t.is(sha256Digest(outcome.stdout), multiIndex.digest);
	const tokenRequests = proxy.requests.filter((request) => request.path.startsWith('/token'));
	t.true(tokenRequests.length > 0);
	t.true(tokenRequests.every((request) => request.auth === 'none' && request.status === 200));
	t.true(proxy.requests.some((request) => request.status === 401 && request.auth === 'none'));
	t.true(
		proxy.requests.some(
			(request) =>
				request.path.includes('/manifests/9.1.3') && request.auth === 'bearer' && request.status === 200,
		),
	);
});

gated('with credentials required, skopeo needs --creds or an auth file', async (t) => {
	const {registry, multiIndex} = await filled();
	const proxy = await startTokenProxy(t, registry.url, {
		credentials: {username: 'reader', password: 's3cret'},
	});
	const reference = `${proxy.host}/elasticsearch/elasticsearch:9.1.3`;

	const anonymous = await fetch(`${proxy.url}/token?service=${tokenService}`);
	await anonymous.arrayBuffer();
	t.is(anonymous.status, 401);
	t.not((await inspectRaw(t, reference)).code, 0);
	t.not((await inspectRaw(t, reference, '--creds', 'reader:wrong')).code, 0);

	const withCreds = await inspectRaw(t, reference, '--creds', 'reader:s3cret');
	t.is(withCreds.code, 0, withCreds.stderr);
	t.is(sha256Digest(withCreds.stdout), multiIndex.digest);

	const dir = await tempDir(t);
	const authFile = path.join(dir, 'config.json');
	const auth = Buffer.from('reader:s3cret').toString('base64');
	await writeFile(authFile, JSON.stringify({auths: {[proxy.host]: {auth}}}));
	const withFile = await inspectRaw(t, reference, '--authfile', authFile);
	t.is(withFile.code, 0, withFile.stderr);
	t.is(sha256Digest(withFile.stdout), multiIndex.digest);
});

gated('skopeo copy --all through the proxy with blob redirects keeps every upstream digest', async (t) => {
	const {registry, multi, multiIndex} = await filled();
	const proxy = await startTokenProxy(t, registry.url, {redirectBlobs: true});
	const dir = await tempDir(t);
	const layout = path.join(dir, 'layout');
	const outcome = await skopeo(t, [
		'copy',
		'--all',
		'--src-tls-verify=false',
		`docker://${proxy.host}/elasticsearch/elasticsearch:9.1.3`,
		`oci:${layout}:9.1.3`,
	]);
	t.is(outcome.code, 0, outcome.stderr);

	const top = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
		manifests: Array<{digest: string; mediaType: string}>;
	};
	t.deepEqual(
		top.manifests.map((entry) => [entry.digest, entry.mediaType]),
		[[multiIndex.digest, multiIndex.mediaType]],
	);
	const expected = new Map<string, Buffer>(multi.blobs);
	for (const manifest of [multiIndex, ...multi.manifests]) {
		expected.set(manifest.digest, manifest.bytes);
	}

	for (const [digest, bytes] of expected) {
		const stored = await readFile(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
		t.true(stored.equals(bytes), digest);
	}

	const redirects = proxy.requests.filter((request) => request.status === 307);
	t.is(redirects.length, multi.blobs.size, 'every blob was fetched once, by redirect');
	const storage = proxy.requests.filter((request) => request.path.startsWith('/storage/'));
	// Served without the registry's token: skopeo left it behind on the way to the other host.
	t.deepEqual(
		storage.map((request) => [request.status, request.auth]),
		[...multi.blobs.keys()].map(() => [200, 'none']),
	);
});

gated('a corrupted blob makes skopeo copy fail on its digest', async (t) => {
	const {registry, multi} = await filled();
	const ownLayer = multi.manifests[1]?.layers[1] ?? '';
	const proxy = await startTokenProxy(t, registry.url, {redirectBlobs: true, corrupt: new Set([ownLayer])});
	const dir = await tempDir(t);
	const outcome = await skopeo(t, [
		'copy',
		'--all',
		'--src-tls-verify=false',
		`docker://${proxy.host}/elasticsearch/elasticsearch:9.1.3`,
		`oci:${path.join(dir, 'layout')}:9.1.3`,
	]);
	t.not(outcome.code, 0);
	t.regex(outcome.stderr, /digest did not match/i);
	t.true(
		proxy.requests.some((request) => request.path.includes(ownLayer) && request.path.startsWith('/storage/')),
	);
});
