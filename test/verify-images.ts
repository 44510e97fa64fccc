/**
verify and prune on container images, against images synced from Debian's
docker-registry: a damaged layer is reported (exit 1) and `--repair` moves it out
and fetches exactly the tags reaching it again from `--image-registry`; a stray
file under oci/ is an unknown file; prune keeps the newest N tags (by version) or
drops tags older than N days, and collects the blobs no kept tag reaches (a blob a
kept tag shares survives), listing what would go with sizes when not told --yes.
*/
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {blobPath} from '../src/images/catalog.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {type PushedImage, pushMultiPlatform, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';

const gated = gatedTest('the image verify and prune tests (docker-registry)', await ensureRegistry());

let keys: string | undefined;
let keyPath: string;
test.before(async () => {
	keys = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
	keyPath = await (await createTestKey()).writePublic(keys);
});
test.after.always(() => (keys ? rm(keys, {recursive: true, force: true}) : undefined));

async function syncImages(t: ExecutionContext, registry: string, images: string, dir?: string) {
	const target = dir ?? (await tempDir(t));
	const {summary} = await runSync(
		{
			dir: target,
			upstream: 'http://127.0.0.1:9',
			'versions-api': 'http://127.0.0.1:9/v1/versions',
			'trusted-key': [keyPath],
			timeout: '5',
			images,
			'image-registry': registry,
		},
		{DOCKER_CONFIG: target, HOME: target},
	);
	t.is(summary.result, 'success', JSON.stringify(summary.failed));
	return target;
}

const manifestPath = (dir: string) => path.join(dir, '.mirror/manifest.json');

async function manifestOf(dir: string) {
	return JSON.parse(await readFile(manifestPath(dir), 'utf8'));
}

async function held(dir: string, digest: string): Promise<Buffer | undefined> {
	return readFile(path.join(dir, blobPath(digest))).catch(() => undefined);
}

/** Every digest an image pushed: index, manifests, configs, layers. */
function digestsOf(image: PushedImage): string[] {
	return [
		...(image.index ? [image.index.digest] : []),
		...image.manifests.map((manifest) => manifest.digest),
		...image.blobs.keys(),
	];
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

gated(
	'a damaged layer is reported; --repair moves it out and fetches again only the tags reaching it; a stray oci/ file is unknown',
	async (t) => {
		const registry = await startRegistry(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const dir = await syncImages(t, registry.url, 'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0');
		const before = await manifestOf(dir);
		const common = ['--dir', dir, '--trusted-key', keyPath, '--image-registry', registry.url];

		const clean = await runCli(['verify', ...common]);
		t.is(clean.code, 0, clean.stdout + clean.stderr);
		t.regex(clean.stdout, /verified 0 files and 13 image blobs and tags: 0 problems/);

		// The arm64 image's own layer, damaged in place (same size).
		const layer = multi.manifests[1]?.layers[1] as string;
		const file = path.join(dir, blobPath(layer));
		const bytes = await readFile(file);
		bytes[10] = (bytes[10] ?? 0) ^ 0xff;
		await writeFile(file, bytes);

		const found = await runCli(['verify', ...common]);
		t.is(found.code, 1, found.stdout + found.stderr);
		t.regex(
			found.stdout,
			new RegExp(`bad: ${literal(blobPath(layer))}: sha256 is sha256:[a-f0-9]{64}, not its digest`),
		);
		t.regex(found.stdout, /1 problems/);

		const repaired = await runCli(['verify', '--repair', ...common]);
		t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
		t.regex(repaired.stdout, /fetched again: elasticsearch\/elasticsearch:9\.1\.3/);
		t.notRegex(repaired.stdout, /fetched again: eck\/eck-operator/);
		t.regex(repaired.stdout, /1 problems, 2 repaired, 0 quarantined/);
		t.true((await held(dir, layer))?.equals(multi.blobs.get(layer) as Buffer));
		const after = await manifestOf(dir);
		t.is(
			after.images.repositories['elasticsearch/elasticsearch']['9.1.3'].digest,
			before.images.repositories['elasticsearch/elasticsearch']['9.1.3'].digest,
		);
		t.deepEqual(Object.keys(after.images.blobs).sort(), Object.keys(before.images.blobs).sort());
		t.false(
			(await listFiles(dir)).some((each) => each.startsWith('.mirror/quarantine/')),
			'the repaired blob leaves quarantine',
		);
		t.is((await runCli(['verify', ...common])).code, 0);

		const stray = blobPath(`sha256:${'0'.repeat(64)}`);
		await writeFile(path.join(dir, stray), 'not a blob anybody listed');
		const unknown = await runCli(['verify', '--repair', ...common]);
		t.is(unknown.code, 1);
		t.regex(
			unknown.stdout,
			new RegExp(
				`bad: ${literal(stray)}: unknown file, not in the manifest, yet served: remove it by hand \\(verify --repair leaves it\\)`,
			),
		);
		t.truthy(await readFile(path.join(dir, stray)));
	},
);

gated(
	'--repair with the registry unreachable keeps the bad blob in quarantine and its tag unlisted (exit 1)',
	async (t) => {
		const registry = await startRegistry(t);
		const single = await pushSinglePlatform(registry.url, 'beats/filebeat', '9.1.3', 'linux/amd64');
		const dir = await syncImages(t, registry.url, 'beats/filebeat:9.1.3');
		const config = single.manifests[0]?.config as string;
		await writeFile(
			path.join(dir, blobPath(config)),
			'x'.repeat((single.blobs.get(config) as Buffer).length),
		);
		const result = await runCli([
			'verify',
			'--repair',
			...['--dir', dir, '--trusted-key', keyPath, '--image-registry', 'http://127.0.0.1:9'],
			...['--retries', '0', '--timeout', '2'],
		]);
		t.is(result.code, 1, result.stdout + result.stderr);
		t.regex(result.stdout, new RegExp(`quarantined: ${literal(blobPath(config))} \\(the tags reaching it`));
		const manifest = await manifestOf(dir);
		t.is(manifest.images?.repositories?.['beats/filebeat'], undefined);
		t.is(manifest.images?.blobs?.[config], undefined);
		t.is(await held(dir, config), undefined);
	},
);

gated(
	'prune --keep-image-tags keeps the newest by version and collects only blobs no kept tag reaches',
	async (t) => {
		const registry = await startRegistry(t);
		const pushed = new Map<string, PushedImage>();
		for (const tag of ['9.1.9', '9.1.10', '9.2.0']) {
			pushed.set(tag, await pushMultiPlatform(registry.url, 'apm/apm-server', tag, {variant: tag}));
		}

		const dir = await syncImages(
			t,
			registry.url,
			'apm/apm-server:9.1.9,apm/apm-server:9.1.10,apm/apm-server:9.2.0',
		);
		const old = pushed.get('9.1.9') as PushedImage;
		const going = digestsOf(old).filter((digest) => digest !== old.sharedLayer);
		t.is(going.length, 7);

		const dry = await runCli(['prune', '--dir', dir, '--keep-image-tags', '2']);
		t.is(dry.code, 0, dry.stdout + dry.stderr);
		t.regex(
			dry.stdout,
			/would remove tag apm\/apm-server:9\.1\.9 \(sha256:[a-f0-9]{64}, linux\/amd64, linux\/arm64\): older than the newest 2 tags of apm\/apm-server/,
		);
		for (const digest of going) {
			t.regex(
				dry.stdout,
				new RegExp(
					`would delete ${literal(blobPath(digest))} \\(\\d+ B\\): no tag the mirror keeps reaches it`,
				),
			);
		}

		t.notRegex(dry.stdout, new RegExp(literal(old.sharedLayer as string)));
		t.regex(dry.stdout, /1 image tags and 7 image blobs \(.+\) would be deleted/);
		t.truthy(await held(dir, going[0] as string), 'a dry run deletes nothing');

		const done = await runCli(['prune', '--dir', dir, '--keep-image-tags', '2', '--yes']);
		t.is(done.code, 0, done.stdout + done.stderr);
		const manifest = await manifestOf(dir);
		t.deepEqual(Object.keys(manifest.images.repositories['apm/apm-server']).sort(), ['9.1.10', '9.2.0']);
		for (const digest of going) {
			t.is(await held(dir, digest), undefined, digest);
			t.is(manifest.images.blobs[digest], undefined, digest);
		}

		for (const tag of ['9.1.10', '9.2.0']) {
			for (const digest of digestsOf(pushed.get(tag) as PushedImage)) {
				t.truthy(await held(dir, digest), `${tag} keeps ${digest}`);
			}
		}

		const verify = await runCli(['verify', '--dir', dir, '--trusted-key', keyPath]);
		t.is(verify.code, 0, verify.stdout + verify.stderr);
	},
);

gated(
	'prune --image-tags-older-than drops old tags and blobs no tag reaches; a blob a kept tag shares survives',
	async (t) => {
		const registry = await startRegistry(t);
		const old = await pushMultiPlatform(registry.url, 'kibana/kibana', '8.19.3', {variant: 'old'});
		const fresh = await pushSinglePlatform(registry.url, 'kibana/kibana', '9.1.3', 'linux/amd64');
		const orphan = await pushSinglePlatform(registry.url, 'logstash/logstash', '9.1.3', 'linux/arm64');
		const dir = await syncImages(
			t,
			registry.url,
			'kibana/kibana:8.19.3,kibana/kibana:9.1.3,logstash/logstash:9.1.3',
		);

		// One tag set 40 days ago; another unlisted as a failed sync leaves its blobs: listed, reached by no tag.
		const manifest = await manifestOf(dir);
		const tags = manifest.images.repositories;
		tags['kibana/kibana']['8.19.3'].publishedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
		delete tags['logstash/logstash'];
		await writeFile(manifestPath(dir), JSON.stringify(manifest));

		const result = await runCli(['prune', '--dir', dir, '--image-tags-older-than', '30', '--yes']);
		t.is(result.code, 0, result.stdout + result.stderr);
		t.regex(result.stdout, /removed tag kibana\/kibana:8\.19\.3 .*more than 30 days ago/);
		const after = await manifestOf(dir);
		t.deepEqual(Object.keys(after.images.repositories), ['kibana/kibana']);
		t.deepEqual(Object.keys(after.images.repositories['kibana/kibana']), ['9.1.3']);
		const shared = old.sharedLayer as string;
		for (const digest of [...digestsOf(old), ...digestsOf(orphan)].filter((digest) => digest !== shared)) {
			t.is(await held(dir, digest), undefined, digest);
			t.is(after.images.blobs[digest], undefined, digest);
		}

		for (const digest of digestsOf(fresh)) {
			t.truthy(await held(dir, digest), digest);
		}

		t.truthy(after.images.blobs[shared]);
		const verify = await runCli(['verify', '--dir', dir, '--trusted-key', keyPath]);
		t.is(verify.code, 0, verify.stdout + verify.stderr);
	},
);
