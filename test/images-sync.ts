/**
`sync --images`: from Debian's docker-registry behind the token proxy that challenges
like docker.elastic.co, into a temp mirror: every manifest, config and layer kept
byte for byte under its digest, shared blobs once, platforms filtered, a re-run that
downloads no blob, a moved tag, a bad blob that publishes nothing of its image, and
credentials from a Docker config.json or REGISTRY_AUTH_FILE.
*/
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {blobPath} from '../src/images/catalog.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {pushMultiPlatform, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {startTokenProxy, type TokenProxy} from './helpers/token-proxy.js';
import {withServer} from './helpers/with-server.js';

const gated = gatedTest('the image sync tests (docker-registry)', await ensureRegistry());

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

/** Flags of an image sync; the binaries' hosts are a port nobody listens on. */
async function imageFlags(
	t: ExecutionContext,
	registry: string,
	images: string,
	extra: Record<string, unknown> = {},
) {
	return {
		dir: await tempDir(t),
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [await key.writePublic(await tempDir(t, 'keys-'))],
		'retry-delay': '5',
		timeout: '5',
		images,
		'image-registry': registry,
		...extra,
	};
}

const noCredentials = (dir: string) => ({DOCKER_CONFIG: dir, HOME: dir});

async function held(dir: string, digest: string): Promise<Buffer | undefined> {
	return readFile(path.join(dir, blobPath(digest))).catch(() => undefined);
}

async function manifestOf(dir: string) {
	return JSON.parse(await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8'));
}

async function upstream(t: ExecutionContext, options: Parameters<typeof startTokenProxy>[2] = {}) {
	const registry = await startRegistry(t);
	const proxy: TokenProxy = await startTokenProxy(t, registry.url, {redirectBlobs: true, ...options});
	return {registry, proxy};
}

gated(
	'a multi-platform and a single-platform image are mirrored byte for byte, shared layers once',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const single = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const flags = await imageFlags(t, proxy.url, 'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0');
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		t.like(summary.images, {tags: 2, updated: 2, failed: 0, skipped: 0});
		for (const image of [multi, single]) {
			for (const [digest, bytes] of image.blobs) {
				t.true((await held(flags.dir, digest))?.equals(bytes), digest);
			}

			for (const manifest of [...(image.index ? [image.index] : []), ...image.manifests]) {
				t.true((await held(flags.dir, manifest.digest))?.equals(manifest.bytes), manifest.digest);
			}
		}

		const manifest = await manifestOf(flags.dir);
		t.is(manifest.images.repositories['elasticsearch/elasticsearch']['9.1.3'].digest, multi.index?.digest);
		t.deepEqual(manifest.images.repositories['elasticsearch/elasticsearch']['9.1.3'].platforms, [
			'linux/amd64',
			'linux/arm64',
		]);
		t.is(manifest.images.repositories['eck/eck-operator']['3.2.0'].digest, single.manifests[0]?.digest);
		// The shared layer is named by three manifests and downloaded once.
		const sharedGets = proxy.requests.filter(
			(request) => request.path.includes(`/blobs/${multi.sharedLayer}`) && request.method === 'GET',
		);
		t.is(sharedGets.filter((request) => !request.path.startsWith('/storage')).length, 1);

		const again = await runSync(flags, noCredentials(flags.dir));
		t.like(again.summary.images, {updated: 0, unchanged: 2, blobs: {published: 0, present: 0}});
		t.is(again.summary.bytes, 0);
	},
);

gated(
	'a bad blob fails its image (exit 1) and publishes nothing of it; a moved tag is updated',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const first = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3');
		const flags = await imageFlags(t, proxy.url, 'kibana/kibana:9.1.3');
		const ownLayer = first.manifests[1]?.layers[1] as string;
		proxy.corrupt.add(ownLayer);
		const result = await runCli(['sync', '--no-json', ...toArgs(flags)], {
			env: {...process.env, ...noCredentials(flags.dir)},
		});
		t.is(result.code, 1, result.stderr);
		t.regex(result.stdout + result.stderr, /kibana\/kibana:9\.1\.3/);
		t.is(await held(flags.dir, ownLayer), undefined);
		const manifest = await manifestOf(flags.dir);
		t.is(manifest.images?.repositories?.['kibana/kibana'], undefined);

		proxy.corrupt.clear();
		t.is((await runSync(flags, noCredentials(flags.dir))).summary.result, 'success');
		const moved = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {variant: 'rebuilt'});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.like(summary.images, {updated: 1});
		t.is(
			(await manifestOf(flags.dir)).images.repositories['kibana/kibana']['9.1.3'].digest,
			moved.index?.digest,
		);
		t.true((await held(flags.dir, moved.index?.digest as string))?.equals(moved.index?.bytes as Buffer));
	},
);

gated(
	'platforms are filtered; a single-platform image of another platform is skipped with a warning',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const multi = await pushMultiPlatform(registry.url, 'apm/apm-server', '9.1.3');
		await pushSinglePlatform(registry.url, 'beats/filebeat', '9.1.3', 'linux/arm64');
		const flags = await imageFlags(t, proxy.url, 'apm/apm-server:9.1.3,beats/filebeat:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'success');
		t.like(summary.images, {updated: 1, skipped: 1});
		t.true(summary.warnings.some((warning) => warning.includes('beats/filebeat:9.1.3')));
		const arm = multi.manifests.find((manifest) => manifest.platform === 'linux/arm64');
		t.is(await held(flags.dir, arm?.digest as string), undefined);
		t.true((await held(flags.dir, multi.index?.digest as string))?.equals(multi.index?.bytes as Buffer));
		const tag = (await manifestOf(flags.dir)).images.repositories['apm/apm-server']['9.1.3'];
		t.deepEqual(tag.platforms, ['linux/amd64']);
		t.deepEqual(tag.skipped, ['linux/arm64']);
	},
);

gated(
	'credentials come from a Docker config.json or REGISTRY_AUTH_FILE; refused or missing ones fail the image',
	async (t) => {
		const credentials = {username: 'mirror', password: 's3cret'};
		const {registry, proxy} = await upstream(t, {credentials});
		await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const flags = await imageFlags(t, proxy.url, 'eck/eck-operator:3.2.0');
		const missing = await runSync(flags, noCredentials(flags.dir));
		t.is(missing.summary.result, 'failed');
		t.is(missing.summary.failed[0]?.code, 'ERR_REGISTRY_AUTH');

		const home = await tempDir(t, 'home-');
		const auth = (username: string, password: string) =>
			JSON.stringify({
				auths: {[proxy.host]: {auth: Buffer.from(`${username}:${password}`).toString('base64')}},
			});
		await writeFile(path.join(home, 'config.json'), auth('mirror', 'wrong'));
		const refused = await runSync(flags, {DOCKER_CONFIG: home, HOME: home});
		t.is(refused.summary.failed[0]?.code, 'ERR_REGISTRY_AUTH');
		t.notRegex(JSON.stringify(refused.summary), /wrong/);

		const authFile = path.join(home, 'auth.json');
		await writeFile(authFile, auth('mirror', 's3cret'));
		const good = await runSync(flags, {DOCKER_CONFIG: home, HOME: home, REGISTRY_AUTH_FILE: authFile});
		t.is(good.summary.result, 'success', JSON.stringify(good.summary.failed));
		t.like(good.summary.images, {updated: 1});
	},
);

gated(
	'untagged repositories take the stack versions; a version a repository lacks is a warning, none at all a failure',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const docker = await pushMultiPlatform(registry.url, 'beats/elastic-agent', '8.19.0', {format: 'docker'});
		await pushMultiPlatform(registry.url, 'elastic-agent/elastic-agent', '9.1.3');
		const flags = await imageFlags(t, proxy.url, 'beats/elastic-agent,elastic-agent/elastic-agent', {
			versions: '8.19.0,9.1.3',
		});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		t.like(summary.images, {tags: 4, updated: 2, skipped: 2, failed: 0});
		t.true(summary.warnings.some((warning) => /beats\/elastic-agent has no tag 9\.1\.3/.test(warning)));
		// A Docker manifest list is kept as it came, with its own media type.
		const tag = (await manifestOf(flags.dir)).images.repositories['beats/elastic-agent']['8.19.0'];
		t.is(tag.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
		t.true((await held(flags.dir, tag.digest))?.equals(docker.index?.bytes as Buffer));

		const wrong = await runSync({...flags, images: 'beats/elastic-agnet'}, noCredentials(flags.dir));
		t.is(wrong.summary.result, 'failed');
		t.is(wrong.summary.failed[0]?.path, 'beats/elastic-agnet');
		t.regex(wrong.summary.failed[0]?.reason ?? '', /none of the tags 8\.19\.0, 9\.1\.3/);
	},
);

gated(
	'another mirror of ours is a source registry; platforms it lacks are warned about, the rest kept byte-identical',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const first = await imageFlags(t, proxy.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		t.is((await runSync(first, noCredentials(first.dir))).summary.result, 'success');
		const server = await withServer(t, first.dir);
		const second = await imageFlags(t, server.url, 'elasticsearch/elasticsearch:9.1.3');
		const {summary} = await runSync(second, noCredentials(second.dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		t.true(summary.warnings.some((warning) => /lacks the manifest of linux\/arm64/.test(warning)));
		const tag = (await manifestOf(second.dir)).images.repositories['elasticsearch/elasticsearch']['9.1.3'];
		t.is(tag.digest, multi.index?.digest);
		t.deepEqual(tag.platforms, ['linux/amd64']);
		t.deepEqual(tag.skipped, ['linux/arm64']);
		const amd = multi.manifests.find((manifest) => manifest.platform === 'linux/amd64');
		for (const digest of [amd?.digest, amd?.config, ...(amd?.layers ?? [])] as string[]) {
			t.deepEqual(await held(second.dir, digest), await held(first.dir, digest), digest);
		}
	},
);

gated('tags naming the same manifests in one run publish each blob once', async (t) => {
	const {registry, proxy} = await upstream(t);
	const single = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
	await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2', 'linux/amd64');
	const multi = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3');
	await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1', {});
	const flags = await imageFlags(
		t,
		proxy.url,
		'eck/eck-operator:3.2.0,eck/eck-operator:3.2,kibana/kibana:9.1.3,kibana/kibana:9.1',
	);
	for (let run = 0; run < 3; run++) {
		const dir = await tempDir(t);
		const {summary} = await runSync({...flags, dir}, noCredentials(dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		const tags = (await manifestOf(dir)).images.repositories;
		t.is(tags['eck/eck-operator']['3.2'].digest, single.manifests[0]?.digest);
		t.is(tags['kibana/kibana']['9.1'].digest, multi.index?.digest);
	}
});

gated(
	'a wider --image-platforms fetches the platforms a held tag skipped, though its digest did not move',
	async (t) => {
		const {registry, proxy} = await upstream(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const flags = await imageFlags(t, proxy.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		t.is((await runSync(flags, noCredentials(flags.dir))).summary.result, 'success');
		const arm = multi.manifests.find((manifest) => manifest.platform === 'linux/arm64');
		t.is(await held(flags.dir, arm?.digest as string), undefined);

		const {summary} = await runSync(
			{...flags, 'image-platforms': 'linux/amd64,linux/arm64'},
			noCredentials(flags.dir),
		);
		t.like(summary.images, {updated: 1, unchanged: 0});
		t.true((await held(flags.dir, arm?.digest as string))?.equals(arm?.bytes as Buffer));
		const manifest = await manifestOf(flags.dir);
		const tag = manifest.images.repositories['elasticsearch/elasticsearch']['9.1.3'];
		t.deepEqual(tag.platforms, ['linux/amd64', 'linux/arm64']);
		t.is(tag.skipped, undefined);
		t.true(manifest.images.blobs[multi.index?.digest as string].refs.includes(arm?.digest));
	},
);

test('an untagged image without --versions exits 2 with one line', async (t) => {
	const result = await runCli(['sync', '--dir', await tempDir(t), '--images', 'kibana/kibana']);
	t.is(result.code, 2);
	t.regex(result.stderr, /untagged image kibana\/kibana/);
	t.is(result.stderr.trim().split('\n').length, 1);
});
