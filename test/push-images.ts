/**
`push-images` through the real CLI: a mirror filled by `sync --images` from one
docker-registry, pushed into a second one (plain HTTP), and read back with skopeo:
every digest and byte equal to upstream's when the mirror holds every platform, a
reduced index (new digest, only the held platform, both digests printed) when it
does not, ECK's flat names with --container-repository, a destination behind the
token proxy with credentials from a Docker config.json (and refused with wrong
ones), and a re-push that uploads nothing.

Over 300 lines because every test leans on the same upstream and mirrors, filled
once for the file, and on the same skopeo read-back.
*/
import {execFile} from 'node:child_process';
import {chmod, readFile, writeFile} from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {blobPath} from '../src/images/catalog.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {
	type PushedImage,
	type PushedManifest,
	pushMultiPlatform,
	pushSinglePlatform,
	sha256Digest,
} from './helpers/oci-images.js';
import {ensureRegistry, type RunningRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates} from './helpers/tls.js';
import {startTokenProxy} from './helpers/token-proxy.js';

const gated = gatedTest('the push-images tests (docker-registry, skopeo)', await ensureRegistry());

const shared = sharedTeardown();
test.after.always(() => shared.run());

/** The upstream registry and what it holds, and two mirrors synced from it. */
type World = {
	upstream: RunningRegistry;
	multi: PushedImage;
	dockerList: PushedImage;
	single: PushedImage;
	/** A mirror of all three images with both platforms. */
	full: string;
	/** A mirror of the two multi-platform images with linux/amd64 only. */
	amd64: string;
};

let world: Promise<World> | undefined;

function indexOf(image: PushedImage): PushedManifest {
	if (!image.index) {
		throw new Error('a multi-platform push came back without its index');
	}

	return image.index;
}

/** A mirror synced from `registry` with `images` (and extra sync flags); no real credentials read. */
async function syncMirror(registry: string, images: string, extra: Record<string, unknown> = {}) {
	const key = await createTestKey();
	const dir = await tempDir(shared);
	const flags = {
		dir,
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [await key.writePublic(await tempDir(shared, 'keys-'))],
		'retry-delay': '5',
		timeout: '5',
		images,
		'image-registry': registry,
		...extra,
	};
	const {summary} = await runSync(flags, {DOCKER_CONFIG: dir, HOME: dir});
	if (summary.result !== 'success') {
		throw new Error(`the mirror's sync failed: ${JSON.stringify(summary.failed)}`);
	}

	return dir;
}

function filled(): Promise<World> {
	world ??= (async () => {
		const upstream = await startRegistry(shared);
		const multi = await pushMultiPlatform(upstream.url, 'elasticsearch/elasticsearch', '9.1.3');
		const dockerList = await pushMultiPlatform(upstream.url, 'kibana/kibana', '9.1.3', {format: 'docker'});
		const single = await pushSinglePlatform(upstream.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const full = await syncMirror(
			upstream.url,
			'elasticsearch/elasticsearch:9.1.3,kibana/kibana:9.1.3,eck/eck-operator:3.2.0',
		);
		const amd64 = await syncMirror(upstream.url, 'elasticsearch/elasticsearch:9.1.3,kibana/kibana:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		return {upstream, multi, dockerList, single, full, amd64};
	})();
	return world;
}

/** Run push-images with no credentials but those of `dockerConfig` (a folder) and none of the user's. */
async function push(t: ExecutionContext, args: readonly string[], dockerConfig?: string) {
	const home = dockerConfig ?? (await tempDir(t, 'home-'));
	return runCli(['push-images', ...args], {env: {DOCKER_CONFIG: home, HOME: home}});
}

type Outcome = {code: number; stdout: Buffer; stderr: string};

/** Run skopeo without the machine's signature policy or anyone's saved logins. */
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

/** `skopeo inspect --raw` of `reference`: the exact manifest bytes the registry holds. */
async function rawManifest(t: ExecutionContext, reference: string): Promise<Buffer> {
	const outcome = await skopeo(t, ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
	t.is(outcome.code, 0, outcome.stderr);
	return outcome.stdout;
}

/**
`skopeo copy --all --preserve-digests` of `reference` into an OCI layout, and every
blob of it checked against `expected` (digest → bytes); the layout's top digest is returned.
*/
async function copyAndCompare(
	t: ExecutionContext,
	reference: string,
	expected: ReadonlyMap<string, Buffer>,
): Promise<string> {
	const layout = path.join(await tempDir(t), 'layout');
	const outcome = await skopeo(t, [
		'copy',
		'--all',
		'--preserve-digests',
		'--src-tls-verify=false',
		`docker://${reference}`,
		`oci:${layout}:pulled`,
	]);
	t.is(outcome.code, 0, outcome.stderr);
	for (const [digest, bytes] of expected) {
		const stored = await readFile(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
		t.true(stored.equals(bytes), `${reference}: ${digest}`);
	}

	const top = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
		manifests: Array<{digest: string}>;
	};
	return top.manifests[0]?.digest ?? '';
}

/** Every blob and manifest of an image as upstream holds it, by digest. */
function everything(image: PushedImage, platforms = ['linux/amd64', 'linux/arm64']): Map<string, Buffer> {
	const found = new Map<string, Buffer>();
	for (const manifest of image.manifests.filter((each) => platforms.includes(each.platform))) {
		found.set(manifest.digest, manifest.bytes);
		for (const digest of [manifest.config, ...manifest.layers]) {
			found.set(digest, image.blobs.get(digest) as Buffer);
		}
	}

	return found;
}

/**
Every manifest and blob of `image` read back from the registry at `url` (plain HTTP,
no auth) by digest, and compared with upstream's bytes; skopeo cannot copy a Docker
manifest list into an OCI layout with --preserve-digests, so this covers those too.
*/
async function compareByHttp(t: ExecutionContext, url: string, name: string, image: PushedImage) {
	for (const manifest of image.manifests) {
		const response = await fetch(`${url}/v2/${name}/manifests/${manifest.digest}`, {
			headers: {accept: manifest.mediaType},
		});
		t.is(response.status, 200, `${name}@${manifest.digest}`);
		t.true(Buffer.from(await response.arrayBuffer()).equals(manifest.bytes), `${name}@${manifest.digest}`);
	}

	for (const [digest, bytes] of image.blobs) {
		const response = await fetch(`${url}/v2/${name}/blobs/${digest}`);
		t.is(response.status, 200, `${name} blob ${digest}`);
		t.true(Buffer.from(await response.arrayBuffer()).equals(bytes), `${name} blob ${digest}`);
	}
}

gated('every tag goes up byte for byte under the default names; shared layers are mounted', async (t) => {
	const {multi, dockerList, single, full} = await filled();
	const destination = await startRegistry(t);
	const result = await push(t, ['--dir', full, '--to', destination.url]);
	t.is(result.code, 0, result.stdout + result.stderr);
	const multiIndex = indexOf(multi);
	t.regex(
		result.stdout,
		new RegExp(
			`^pushed elasticsearch/elasticsearch:9\\.1\\.3 to ${destination.host}/elasticsearch/elasticsearch:9\\.1\\.3: .*; ${multiIndex.digest}$`,
			'm',
		),
	);
	t.notRegex(result.stdout, /reduced/);
	// The shared layer went up once, with eck/eck-operator (first in order), and was mounted into the others.
	t.regex(
		result.stdout,
		/^pushed 3 tags to .*, 0 unchanged, 0 failed: \d+ blobs uploaded .*, 2 mounted, 0 already there$/m,
	);

	for (const [name, tag, image] of [
		['elasticsearch/elasticsearch', '9.1.3', multi],
		['kibana/kibana', '9.1.3', dockerList],
		['eck/eck-operator', '3.2.0', single],
	] as const) {
		const top = image.index ?? (image.manifests[0] as PushedManifest);
		const reference = `${destination.host}/${name}:${tag}`;
		t.true((await rawManifest(t, reference)).equals(top.bytes), reference);
		await compareByHttp(t, destination.url, name, image);
	}

	const esReference = `${destination.host}/elasticsearch/elasticsearch:9.1.3`;
	t.is(await copyAndCompare(t, esReference, everything(multi)), multiIndex.digest);

	const again = await push(t, ['--dir', full, '--to', destination.url]);
	t.is(again.code, 0, again.stdout + again.stderr);
	t.regex(again.stdout, /^pushed 0 tags to .*, 3 unchanged, 0 failed: 0 blobs uploaded/m);
});

gated('an index the mirror holds one platform of is reduced to it: a new digest, both printed', async (t) => {
	const {multi, amd64, full} = await filled();
	const destination = await startRegistry(t);
	const result = await push(t, ['--dir', amd64, '--to', destination.url]);
	t.is(result.code, 0, result.stdout + result.stderr);
	const original = indexOf(multi);
	const line = new RegExp(
		`^elasticsearch/elasticsearch:9\\.1\\.3: index reduced to linux/amd64 \\(held\\): (sha256:[0-9a-f]{64}) \\(mirror ${original.digest}\\)$`,
		'm',
	).exec(result.stdout);
	t.truthy(line, result.stdout);
	const reducedDigest = line?.[1] as string;
	t.not(reducedDigest, original.digest);

	const reference = `${destination.host}/elasticsearch/elasticsearch:9.1.3`;
	const raw = await rawManifest(t, reference);
	t.is(sha256Digest(raw), reducedDigest);
	const pushed = JSON.parse(raw.toString()) as Record<string, unknown> & {
		manifests: Array<{digest: string; platform: {os: string; architecture: string}}>;
	};
	const upstreamIndex = JSON.parse(original.bytes.toString()) as typeof pushed;
	const amdManifest = multi.manifests.find((manifest) => manifest.platform === 'linux/amd64');
	t.deepEqual(pushed, {...upstreamIndex, manifests: upstreamIndex.manifests.slice(0, 1)});
	t.deepEqual(
		pushed.manifests.map((entry) => [entry.digest, `${entry.platform.os}/${entry.platform.architecture}`]),
		[[amdManifest?.digest, 'linux/amd64']],
	);
	t.is(await copyAndCompare(t, reference, everything(multi, ['linux/amd64'])), reducedDigest);

	// The full mirror then brings what is missing: arm64's config and own layer; amd64's are there.
	const full2 = await push(t, ['--dir', full, '--to', destination.url]);
	t.is(full2.code, 0, full2.stdout + full2.stderr);
	t.regex(
		full2.stdout,
		/^pushed elasticsearch\/elasticsearch:9\.1\.3 to .*: 2 blobs uploaded \(.*\), 0 mounted, 3 already there; 1 manifests by digest; /m,
	);
	t.true((await rawManifest(t, reference)).equals(original.bytes));
});

gated('--container-repository pushes to ECK flat names NAME/<last component>', async (t) => {
	const {multi, single, full} = await filled();
	const destination = await startRegistry(t);
	const result = await push(t, ['--dir', full, '--to', destination.url, '--container-repository', 'elastic']);
	t.is(result.code, 0, result.stdout + result.stderr);
	t.regex(result.stdout, new RegExp(`to ${destination.host}/elastic/elasticsearch:9\\.1\\.3: `));
	t.true(
		(await rawManifest(t, `${destination.host}/elastic/elasticsearch:9.1.3`)).equals(indexOf(multi).bytes),
	);
	t.true(
		(await rawManifest(t, `${destination.host}/elastic/eck-operator:3.2.0`)).equals(
			(single.manifests[0] as PushedManifest).bytes,
		),
	);
	const defaultName = await skopeo(t, [
		'inspect',
		'--raw',
		'--tls-verify=false',
		`docker://${destination.host}/elasticsearch/elasticsearch:9.1.3`,
	]);
	t.not(defaultName.code, 0, 'nothing under the default names');
});

gated(
	'behind a token service: credentials from a Docker config.json; a re-push uploads nothing',
	async (t) => {
		const {multi, full} = await filled();
		// Relative upload locations, so that the uploads pass through the proxy too.
		const destination = await startRegistry(t, {env: {REGISTRY_HTTP_RELATIVEURLS: 'true'}});
		const credentials = {username: 'pusher', password: 'push-s3cret'};
		const proxy = await startTokenProxy(t, destination.url, {allowPush: true, credentials});
		const home = await tempDir(t, 'home-');
		const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
		await writeFile(path.join(home, 'config.json'), JSON.stringify({auths: {[proxy.host]: {auth}}}));

		const result = await push(t, ['--dir', full, '--to', proxy.url], home);
		t.is(result.code, 0, result.stdout + result.stderr);
		const tokenRequests = proxy.requests.filter((request) => request.path.startsWith('/token'));
		t.true(tokenRequests.length > 0);
		t.true(tokenRequests.every((request) => request.auth === 'basic' && request.status === 200));
		t.true(
			tokenRequests.some((request) =>
				request.path.includes(encodeURIComponent('repository:kibana/kibana:pull,push')),
			),
		);
		const uploads = proxy.requests.filter(
			(request) => request.method === 'PUT' && request.path.includes('/blobs/uploads/'),
		);
		t.true(
			uploads.length > 0 && uploads.every((request) => request.status === 201 && request.auth === 'bearer'),
		);
		t.true(
			(await rawManifest(t, `${destination.host}/elasticsearch/elasticsearch:9.1.3`)).equals(
				indexOf(multi).bytes,
			),
		);

		const before = proxy.requests.length;
		const again = await push(t, ['--dir', full, '--to', proxy.url], home);
		t.is(again.code, 0, again.stdout + again.stderr);
		const writes = proxy.requests
			.slice(before)
			.filter((request) => request.method === 'PUT' || request.method === 'POST');
		t.deepEqual(writes, [], 'no upload and no manifest put on a re-push');
		t.regex(again.stdout, /3 unchanged, 0 failed: 0 blobs uploaded/);
	},
);

gated(
	'wrong credentials fail every tag (exit 1) with a line naming the registry; nothing leaks',
	async (t) => {
		const {amd64} = await filled();
		const destination = await startRegistry(t);
		const proxy = await startTokenProxy(t, destination.url, {
			allowPush: true,
			credentials: {username: 'pusher', password: 'push-s3cret'},
		});
		const home = await tempDir(t, 'home-');
		const auth = Buffer.from('pusher:wrong-pass').toString('base64');
		await writeFile(path.join(home, 'config.json'), JSON.stringify({auths: {[proxy.host]: {auth}}}));
		const result = await push(t, ['--dir', amd64, '--to', proxy.url], home);
		t.is(result.code, 1, result.stdout + result.stderr);
		const failed = result.stdout.split('\n').filter((line) => line.startsWith('failed '));
		t.is(failed.length, 2, result.stdout);
		for (const line of failed) {
			t.true(line.includes(proxy.host) && line.includes('refused the credentials'), line);
		}

		t.regex(result.stdout, /^pushed 0 tags to .*, 2 failed/m);
		t.notRegex(result.stdout + result.stderr, /wrong-pass|push-s3cret/);
		t.false((result.stdout + result.stderr).includes(auth));
		t.deepEqual(
			proxy.requests.filter((request) => request.method === 'POST' || request.method === 'PUT'),
			[],
		);
	},
);

gated('--dry-run lists what would be pushed and sends nothing', async (t) => {
	const {multi, amd64} = await filled();
	const result = await push(t, ['--dir', amd64, '--to', 'http://127.0.0.1:9', '--dry-run']);
	t.is(result.code, 0, result.stdout + result.stderr);
	t.regex(
		result.stdout,
		/^would push elasticsearch\/elasticsearch:9\.1\.3 to 127\.0\.0\.1:9\/elasticsearch\/elasticsearch:9\.1\.3: 3 blobs .*, 1 manifests by digest/m,
	);
	t.regex(
		result.stdout,
		new RegExp(
			`index reduced to linux/amd64 \\(held\\): sha256:[0-9a-f]{64} \\(mirror ${indexOf(multi).digest}\\)`,
		),
	);
	t.regex(result.stdout, /^would push 2 tags to 127\.0\.0\.1:9: /m);

	const json = await push(t, ['--dir', amd64, '--to', 'http://127.0.0.1:9', '--dry-run', '--json']);
	t.is(json.code, 0);
	const lines = json.stdout
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as Record<string, unknown>);
	t.deepEqual(
		lines.map((line) => [line.type, line.result ?? null]),
		[
			['tag', 'planned'],
			['tag', 'planned'],
			['summary', null],
		],
	);
});

gated(
	'a tag moved upstream and synced again replaces the tag; blobs the registry has are not sent again',
	async (t) => {
		const upstream = await startRegistry(t);
		await pushSinglePlatform(upstream.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const mirror = await syncMirror(upstream.url, 'eck/eck-operator:3.2.0');
		const destination = await startRegistry(t);
		t.is((await push(t, ['--dir', mirror, '--to', destination.url])).code, 0);
		const moved = await pushSinglePlatform(upstream.url, 'eck/eck-operator', '3.2.0', 'linux/amd64', {
			variant: 'rebuilt',
		});
		const again = await syncMirror(upstream.url, 'eck/eck-operator:3.2.0');
		const result = await push(t, ['--dir', again, '--to', destination.url]);
		t.is(result.code, 0, result.stdout + result.stderr);
		const top = moved.manifests[0] as PushedManifest;
		t.true((await rawManifest(t, `${destination.host}/eck/eck-operator:3.2.0`)).equals(top.bytes));
		// The new config and layer go up; the shared layer is found there (HEAD) and skipped.
		t.regex(
			result.stdout,
			new RegExp(
				`^pushed eck/eck-operator:3\\.2\\.0 to .*: 2 blobs uploaded \\(.*\\), 0 mounted, 1 already there; 0 manifests by digest; ${top.digest}$`,
				'm',
			),
		);
		await compareByHttp(t, destination.url, 'eck/eck-operator', moved);
	},
);

gated(
	'two repositories with one flat name and one tag are refused before anything is sent (exit 2)',
	async (t) => {
		const upstream = await startRegistry(t);
		await pushSinglePlatform(upstream.url, 'beats/elastic-agent', '8.19.0', 'linux/amd64');
		await pushSinglePlatform(upstream.url, 'elastic-agent/elastic-agent', '8.19.0', 'linux/amd64');
		await pushSinglePlatform(upstream.url, 'elastic-agent/elastic-agent', '9.1.3', 'linux/amd64');
		const mirror = await syncMirror(
			upstream.url,
			'beats/elastic-agent:8.19.0,elastic-agent/elastic-agent:8.19.0',
		);
		const proxy = await startTokenProxy(t, (await startRegistry(t)).url, {allowPush: true});
		const refused = await push(t, ['--dir', mirror, '--to', proxy.url, '--container-repository', 'elastic']);
		t.is(refused.code, 2, refused.stdout + refused.stderr);
		t.is(
			refused.stderr.trim(),
			"error: --container-repository elastic puts both beats/elastic-agent and elastic-agent/elastic-agent at elastic/elastic-agent:8.19.0; push without --container-repository (ECK's default names keep them apart)",
		);
		t.deepEqual(proxy.requests, []);

		// Different tags under one flat name are fine: ECK picks the repository by stack version.
		const apart = await syncMirror(
			upstream.url,
			'beats/elastic-agent:8.19.0,elastic-agent/elastic-agent:9.1.3',
		);
		const result = await push(t, ['--dir', apart, '--to', proxy.url, '--container-repository', 'elastic']);
		t.is(result.code, 0, result.stdout + result.stderr);
		t.regex(result.stdout, /^pushed 2 tags to /m);
	},
);

gated(
	'a tag that fails (a blob changed in the store) is reported, exit 1, and the others are pushed',
	async (t) => {
		const {upstream, dockerList, single} = await filled();
		const mirror = await syncMirror(upstream.url, 'kibana/kibana:9.1.3,eck/eck-operator:3.2.0');
		const ownLayer = dockerList.manifests[0]?.layers[1] as string;
		const file = path.join(mirror, blobPath(ownLayer));
		const bytes = await readFile(file);
		bytes[0] = (bytes[0] as number) ^ 0xff;
		await chmod(file, 0o644);
		await writeFile(file, bytes);
		const destination = await startRegistry(t);
		const result = await push(t, ['--dir', mirror, '--to', destination.url, '--retries', '0']);
		t.is(result.code, 1, result.stdout + result.stderr);
		t.regex(result.stdout, /^failed kibana\/kibana:9\.1\.3: .*DIGEST_INVALID/m);
		t.regex(result.stdout, /^pushed 1 tags to .*, 0 unchanged, 1 failed: /m);
		t.true(
			(await rawManifest(t, `${destination.host}/eck/eck-operator:3.2.0`)).equals(
				(single.manifests[0] as PushedManifest).bytes,
			),
		);
		const kibana = await fetch(`${destination.url}/v2/kibana/kibana/manifests/9.1.3`, {
			headers: {accept: dockerList.index?.mediaType as string},
		});
		t.is(kibana.status, 404, 'the failed tag is not in the registry');
	},
);

/** An HTTPS front for a plain-HTTP registry, with the test CA's certificate; closed at teardown. */
async function httpsFront(t: ExecutionContext, target: string): Promise<{url: string; caFile: string}> {
	const certificates = createCertificates(await tempDir(t, 'tls-'));
	const upstream = new URL(target);
	const server = https.createServer({cert: certificates.cert, key: certificates.key}, (request, response) => {
		const outgoing = http.request(
			{
				host: upstream.hostname,
				port: upstream.port,
				path: request.url,
				method: request.method,
				headers: {...request.headers, host: upstream.host},
			},
			(reply) => {
				response.writeHead(reply.statusCode ?? 502, reply.headers);
				reply.pipe(response);
			},
		);
		outgoing.on('error', () => response.destroy());
		request.pipe(outgoing);
	});
	await new Promise<void>((resolve) => {
		server.listen(0, '127.0.0.1', resolve);
	});
	t.teardown(
		() =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	);
	return {url: `https://localhost:${(server.address() as AddressInfo).port}`, caFile: certificates.caFile};
}

gated('over HTTPS the registry must be trusted: --ca-file; an unreachable one fails at once', async (t) => {
	const {single, full} = await filled();
	const destination = await startRegistry(t, {env: {REGISTRY_HTTP_RELATIVEURLS: 'true'}});
	const front = await httpsFront(t, destination.url);
	const untrusted = await push(t, ['--dir', full, '--to', front.url]);
	t.is(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
	t.regex(untrusted.stderr, /^error: .*not trusted.*--ca-file/);
	t.is(untrusted.stderr.trim().split('\n').length, 1);

	const trusted = await push(t, ['--dir', full, '--to', front.url, '--ca-file', front.caFile]);
	t.is(trusted.code, 0, trusted.stdout + trusted.stderr);
	const top = single.manifests[0] as PushedManifest;
	t.true((await rawManifest(t, `${destination.host}/eck/eck-operator:3.2.0`)).equals(top.bytes));

	const unreachable = await push(t, ['--dir', full, '--to', 'http://127.0.0.1:9']);
	t.is(unreachable.code, 1);
	t.is(
		unreachable.stderr.trim(),
		'error: cannot reach the registry 127.0.0.1:9 (ECONNREFUSED): check --to; set HTTPS_PROXY (and NO_PROXY) if this network needs a proxy',
	);
});

test('push-images without --to, or with a bad --container-repository, exits 2 with one line', async (t) => {
	const dir = await tempDir(t);
	const missing = await runCli(['push-images', '--dir', dir], {env: {HOME: dir, DOCKER_CONFIG: dir}});
	t.is(missing.code, 2);
	t.regex(missing.stderr, /no --to given/);
	t.is(missing.stderr.trim().split('\n').length, 1);
	const bad = await runCli(
		['push-images', '--dir', dir, '--to', 'http://127.0.0.1:9', '--container-repository', 'Elastic'],
		{
			env: {HOME: dir, DOCKER_CONFIG: dir},
		},
	);
	t.is(bad.code, 2);
	t.regex(bad.stderr, /invalid --container-repository "Elastic"/);
	t.is(bad.stderr.trim().split('\n').length, 1);
});
