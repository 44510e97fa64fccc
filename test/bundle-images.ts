/**
Container images across the air gap: export carries every blob once with the tags,
import into an empty mirror gives byte-identical blobs and equal tags; `--since`
after a moved tag carries only the new blobs and completes the tag on a mirror
holding the older ones, while a mirror lacking them refuses the tag and publishes
nothing of it; a blob whose bytes do not match its digest refuses the tags reaching
it (exit 1) and nothing else.
*/
import {createHash} from 'node:crypto';
import {createReadStream, createWriteStream} from 'node:fs';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {setTimeout as delay} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import tar from 'tar-stream';
import {exportBundle} from '../src/bundle/export.js';
import {bundleManifestName} from '../src/bundle/format.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {blobPath} from '../src/images/catalog.js';
import {missingFrom} from '../src/images/closure.js';
import {dirLocation} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {pushMultiPlatform, pushSinglePlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';

const gated = gatedTest('the image bundle tests (docker-registry)', await ensureRegistry());

let keys: string | undefined;
let keyPath: string;
test.before(async () => {
	keys = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
	keyPath = await (await createTestKey()).writePublic(keys);
});
test.after.always(() => (keys ? rm(keys, {recursive: true, force: true}) : undefined));

/** Sync `images` from `registry` into `dir` (a new temp mirror when absent); resolves with the directory. */
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

/** The mirror's image section; empty when it has no manifest yet. */
async function imagesOf(dir: string) {
	const text = await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8').catch(() => '{}');
	return JSON.parse(text).images ?? {repositories: {}, blobs: {}};
}

async function held(dir: string, digest: string): Promise<Buffer | undefined> {
	return readFile(path.join(dir, blobPath(digest))).catch(() => undefined);
}

const importInto = (dir: string, file: string) =>
	importBundle({location: dirLocation(dir), input: concatParts([file]), trustedKeyPaths: []});

/** The bundle's entries: its manifest, then every file with its bytes. */
async function readBundle(file: string) {
	const extract = tar.extract();
	const reading = pipeline(createReadStream(file), extract);
	const entries = new Map<string, Buffer>();
	for await (const entry of extract) {
		const chunks: Buffer[] = [];
		for await (const chunk of entry) {
			chunks.push(chunk as Buffer);
		}

		entries.set(entry.header.name, Buffer.concat(chunks));
	}

	await reading;
	const manifest = JSON.parse((entries.get(bundleManifestName) as Buffer).toString('utf8'));
	entries.delete(bundleManifestName);
	return {manifest, entries};
}

/**
A copy of the bundle with one blob's bytes changed and its bundle entry updated to
match, so the bundle itself is consistent and only the digest check can catch it.
*/
async function tamperedCopy(file: string, out: string, digest: string): Promise<void> {
	const {manifest, entries} = await readBundle(file);
	const relative = blobPath(digest);
	const bytes = Buffer.from(entries.get(relative) as Buffer);
	bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
	entries.set(relative, bytes);
	for (const listed of manifest.files) {
		if (listed.path === relative) {
			listed.sha512 = createHash('sha512').update(bytes).digest('hex');
		}
	}

	const pack = tar.pack();
	const writing = pipeline(pack, createWriteStream(out));
	pack.entry({name: bundleManifestName}, Buffer.from(JSON.stringify(manifest)));
	for (const [name, data] of entries) {
		pack.entry({name}, data);
	}

	pack.finalize();
	await writing;
}

gated(
	'export then import into an empty mirror: every blob once and byte-identical, the same tags; again, all present',
	async (t) => {
		const registry = await startRegistry(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const single = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64');
		const source = await syncImages(
			t,
			registry.url,
			'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0',
		);
		const sourceImages = await imagesOf(source);
		const digests = Object.keys(sourceImages.blobs);
		// Index, two manifests, two configs, three layers; the operator's manifest, config and own layer.
		t.is(digests.length, 11);

		const out = path.join(await tempDir(t), 'bundle.tar');
		const summary = await exportBundle({location: dirLocation(source), out, selection: {}});
		t.deepEqual(summary.images, {tags: 2, blobs: 11});
		t.is(summary.files, 11);
		const {manifest} = await readBundle(out);
		t.deepEqual(manifest.files.map((file: {path: string}) => file.path).sort(), digests.map(blobPath).sort());

		const target = await tempDir(t);
		const first = await importInto(target, out);
		t.deepEqual(first.images, {
			tags: {published: 2, present: 0},
			blobs: {published: 11, present: 0},
			failed: [],
		});
		const targetImages = await imagesOf(target);
		t.deepEqual(targetImages.repositories, sourceImages.repositories);
		for (const digest of digests) {
			t.true((await held(target, digest))?.equals((await held(source, digest)) as Buffer), digest);
		}

		for (const [digest, bytes] of [...multi.blobs, ...single.blobs]) {
			t.true((await held(target, digest))?.equals(bytes), digest);
		}

		const again = await importInto(target, out);
		t.like(again.images, {tags: {published: 0, present: 2}, blobs: {published: 0}});

		const cli = await runCli(['verify', '--dir', target, '--trusted-key', keyPath]);
		t.is(cli.code, 0, cli.stdout + cli.stderr);
		t.regex(cli.stdout, /13 image blobs and tags: 0 problems/);
	},
);

gated(
	'--since after a moved tag carries only the new blobs; a mirror with the older ones imports it, one without refuses the tag',
	async (t) => {
		const registry = await startRegistry(t);
		await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {variant: 'first'});
		const source = await syncImages(t, registry.url, 'kibana/kibana:9.1.3');
		const full = path.join(await tempDir(t), 'full.tar');
		await exportBundle({location: dirLocation(source), out: full, selection: {}});
		const target = await tempDir(t);
		await importInto(target, full);

		await delay(5);
		const since = new Date();
		await delay(5);
		const moved = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {variant: 'rebuilt'});
		await syncImages(t, registry.url, 'kibana/kibana:9.1.3', source);
		const delta = path.join(await tempDir(t), 'delta.tar');
		const summary = await exportBundle({location: dirLocation(source), out: delta, selection: {}, since});
		// The index, two manifests, two configs and two own layers are new; the shared layer is not.
		t.deepEqual(summary.images, {tags: 1, blobs: 7});
		const {manifest, entries} = await readBundle(delta);
		t.is(entries.size, 7);
		t.false(entries.has(blobPath(moved.sharedLayer as string)));
		t.is(manifest.images.repositories['kibana/kibana']['9.1.3'].digest, moved.index?.digest);

		const imported = await importInto(target, delta);
		t.deepEqual(imported.images, {
			tags: {published: 1, present: 0},
			blobs: {published: 7, present: 0},
			failed: [],
		});
		const images = await imagesOf(target);
		t.is(images.repositories['kibana/kibana']['9.1.3'].digest, moved.index?.digest);
		t.deepEqual(missingFrom(images, moved.index?.digest as string), []);
		for (const [digest, bytes] of moved.blobs) {
			t.true((await held(target, digest))?.equals(bytes), digest);
		}

		const empty = await tempDir(t);
		const refused = await runCli(['import', '--dir', empty, '--trusted-key', keyPath, delta]);
		t.is(refused.code, 1, refused.stdout + refused.stderr);
		t.regex(
			refused.stdout,
			/not imported: kibana\/kibana:9\.1\.3: needs sha256:[a-f0-9]{64}, which is neither in the bundle nor in this mirror/,
		);
		const nothing = await imagesOf(empty);
		t.deepEqual(nothing.repositories, {});
		t.deepEqual(nothing.blobs, {});
	},
);

gated(
	'a bundle blob that does not match its digest refuses the tags reaching it (exit 1); other tags and what the mirror held stay',
	async (t) => {
		const registry = await startRegistry(t);
		const multi = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const single = await pushSinglePlatform(registry.url, 'beats/filebeat', '9.1.3', 'linux/amd64');
		const operator = await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/arm64');
		const source = await syncImages(
			t,
			registry.url,
			'elasticsearch/elasticsearch:9.1.3,beats/filebeat:9.1.3',
		);
		const target = await syncImages(t, registry.url, 'eck/eck-operator:3.2.0');
		const before = await imagesOf(target);

		const out = path.join(await tempDir(t), 'bundle.tar');
		await exportBundle({location: dirLocation(source), out, selection: {}});
		const ownLayer = multi.manifests[1]?.layers[1] as string;
		const tampered = path.join(await tempDir(t), 'tampered.tar');
		await tamperedCopy(out, tampered, ownLayer);

		const result = await runCli(['import', '--dir', target, '--trusted-key', keyPath, tampered]);
		t.is(result.code, 1, result.stdout + result.stderr);
		t.regex(
			result.stdout,
			/not imported: elasticsearch\/elasticsearch:9\.1\.3: oci\/blobs\/sha256\/[a-f0-9]{64} in the bundle does not match its digest/,
		);
		t.regex(result.stdout, /imported images: 1 tags published, 0 already present, 1 refused/);
		const images = await imagesOf(target);
		t.is(images.repositories['beats/filebeat']['9.1.3'].digest, single.manifests[0]?.digest);
		t.is(images.repositories['eck/eck-operator']['3.2.0'].digest, operator.manifests[0]?.digest);
		t.is(images.repositories['elasticsearch/elasticsearch'], undefined);
		// Nothing of the refused image is published, not even its sound blobs.
		for (const digest of [ownLayer, multi.index?.digest as string, multi.manifests[0]?.digest as string]) {
			t.is(images.blobs[digest], undefined, digest);
			t.is(await held(target, digest), undefined, digest);
		}

		for (const digest of Object.keys(before.blobs)) {
			t.truthy(images.blobs[digest], digest);
			t.truthy(await held(target, digest), digest);
		}

		const verify = await runCli(['verify', '--dir', target, '--trusted-key', keyPath]);
		t.is(verify.code, 0, verify.stdout + verify.stderr);
	},
);
