/**
The image sync, export/import, verify and prune against hostile or unusual input: a
registry sending a blob longer than its descriptor (with no length), a widened
--image-platforms on a tag that did not move, a bundle listing a platform manifest as
a plain blob, killed prunes and repairs. Each test failed before the fix it came with.
*/
import {createHash} from 'node:crypto';
import {createReadStream, createWriteStream} from 'node:fs';
import {readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {pathToFileURL} from 'node:url';
import test, {type ExecutionContext} from 'ava';
import tar from 'tar-stream';
import {exportBundle} from '../src/bundle/export.js';
import {bundleManifestName} from '../src/bundle/format.js';
import {checkBundleImages} from '../src/bundle/import-images.js';
import {blobPath} from '../src/images/catalog.js';
import {closureOf} from '../src/images/closure.js';
import {dirLocation} from '../src/store/location.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {pushMultiPlatform} from './helpers/oci-images.js';
import {ensureRegistry, startRegistry} from './helpers/oci-registry.js';
import {runCli, runSync, startCli, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {startTokenProxy} from './helpers/token-proxy.js';
import {withServer} from './helpers/with-server.js';

const gated = gatedTest('the image review tests (docker-registry)', await ensureRegistry());

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

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
		retries: '0',
		images,
		'image-registry': registry,
		...extra,
	};
}

const noCredentials = (dir: string) => ({DOCKER_CONFIG: dir, HOME: dir});

async function manifestOfMirror(dir: string) {
	return JSON.parse(await readFile(path.join(dir, '.mirror/manifest.json'), 'utf8'));
}

/** A hand-written registry: `routes` answers by path; counts the bytes it sent for each. */
async function fakeRegistry(
	t: ExecutionContext,
	routes: Record<string, (response: import('node:http').ServerResponse) => void>,
): Promise<{url: string; sent: Map<string, number>}> {
	const sent = new Map<string, number>();
	const server: Server = createServer((request, response) => {
		const route = routes[request.url ?? ''];
		if (!route) {
			response.writeHead(404, {'content-type': 'application/json'}).end('{"errors":[]}');
			return;
		}

		const write = response.write.bind(response);
		response.write = ((chunk: Buffer, ...rest: never[]) => {
			sent.set(request.url ?? '', (sent.get(request.url ?? '') ?? 0) + chunk.length);
			return write(chunk, ...rest);
		}) as typeof response.write;
		route(response);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => {
		server.closeAllConnections();
		server.close();
	});
	return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent};
}

gated(
	'a layer longer than its descriptor, sent without a length, is cut off at the descriptor size',
	async (t) => {
		const config = Buffer.from(
			JSON.stringify({os: 'linux', architecture: 'amd64', rootfs: {type: 'layers'}}),
		);
		const layer = Buffer.from('ten bytes!');
		const manifest = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: 'application/vnd.oci.image.manifest.v1+json',
				config: {
					mediaType: 'application/vnd.oci.image.config.v1+json',
					digest: sha256(config),
					size: config.length,
				},
				layers: [
					{mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length},
				],
			}),
		);
		const endless = `/v2/hostile/blobs/${sha256(layer)}`;
		const registry = await fakeRegistry(t, {
			'/v2/': (response) => response.writeHead(200).end('{}'),
			'/v2/hostile/manifests/1': (response) =>
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(manifest),
			[`/v2/hostile/blobs/${sha256(config)}`]: (response) => response.writeHead(200).end(config),
			// Chunked, no Content-Length: 64 MiB of zeros where 10 bytes were promised.
			[endless]: (response) => {
				response.writeHead(200, {'content-type': 'application/octet-stream'});
				const chunk = Buffer.alloc(64 * 1024);
				let left = 1024;
				const pump = () => {
					while (left > 0) {
						left--;
						if (!response.write(chunk)) {
							response.once('drain', pump);
							return;
						}
					}

					response.end();
				};
				response.on('close', () => {
					left = 0;
				});
				pump();
			},
		});
		const flags = await imageFlags(t, registry.url, 'hostile:1', {'image-platforms': 'linux/amd64'});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'failed');
		const reason = JSON.stringify(summary.failed);
		t.regex(reason, /hostile:1/);
		t.regex(reason, /more than the 10 bytes/, reason);
		t.deepEqual((await manifestOfMirror(flags.dir)).images?.repositories ?? {}, {});
		// What the server managed to hand over before the mirror hung up: far from 64 MiB.
		t.true((registry.sent.get(endless) ?? 0) < 16 * 1024 * 1024, String(registry.sent.get(endless)));
	},
);

gated('a platform added to --image-platforms is fetched for a tag that did not move upstream', async (t) => {
	const registry = await startRegistry(t);
	const proxy = await startTokenProxy(t, registry.url);
	const image = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
	const flags = await imageFlags(t, proxy.url, 'elasticsearch/elasticsearch:9.1.3', {
		'image-platforms': 'linux/amd64',
	});
	const first = await runSync(flags, noCredentials(flags.dir));
	t.is(first.summary.result, 'success', JSON.stringify(first.summary.failed));
	const arm = image.manifests.find((manifest) => manifest.platform === 'linux/arm64');
	t.truthy(arm);
	t.is((await manifestOfMirror(flags.dir)).images.blobs[arm?.digest as string], undefined);

	const second = await runSync(
		{...flags, 'image-platforms': 'linux/amd64,linux/arm64'},
		noCredentials(flags.dir),
	);
	t.is(second.summary.result, 'success', JSON.stringify(second.summary.failed));
	const after = await manifestOfMirror(flags.dir);
	const tag = after.images.repositories['elasticsearch/elasticsearch']['9.1.3'];
	t.deepEqual([...tag.platforms].sort(), ['linux/amd64', 'linux/arm64']);
	t.is(tag.skipped, undefined);
	t.truthy(after.images.blobs[arm?.digest as string]);
	t.true(after.images.blobs[image.index?.digest as string].refs.includes(arm?.digest));
	const bytes = await readFile(path.join(flags.dir, blobPath(arm?.digest as string)));
	t.true(bytes.equals(arm?.bytes as Buffer));
});

/** The parts of a bundle manifest the tests edit. */
type EditableBundle = {
	images: {blobs: Array<{digest: string; size: number}>};
	files: Array<{path: string}>;
};

/** A copy of a bundle with its manifest and entries edited by `edit`. */
async function editedBundle(
	file: string,
	out: string,
	edit: (manifest: EditableBundle, entries: Map<string, Buffer>) => void,
): Promise<void> {
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
	const manifest = JSON.parse((entries.get(bundleManifestName) as Buffer).toString('utf8')) as EditableBundle;
	entries.delete(bundleManifestName);
	edit(manifest, entries);
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
	'a bundle listing a platform manifest as a plain blob (no mediaType, no refs) does not publish a tag whose manifest names blobs the mirror lacks',
	async (t) => {
		const registry = await startRegistry(t);
		const image = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const flags = await imageFlags(t, registry.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64,linux/arm64',
		});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		const out = path.join(await tempDir(t), 'bundle.tar');
		await exportBundle({location: dirLocation(flags.dir), out, selection: {}});

		const arm = image.manifests.find(
			(manifest) => manifest.platform === 'linux/arm64',
		) as (typeof image.manifests)[number];
		const ownLayer = arm.layers[1] as string;
		const hostile = path.join(await tempDir(t), 'hostile.tar');
		await editedBundle(out, hostile, (manifest, entries) => {
			manifest.images.blobs = manifest.images.blobs
				.filter((entry) => entry.digest !== ownLayer)
				.map((entry) =>
					entry.digest === arm.digest ? {digest: entry.digest, size: arm.bytes.length} : entry,
				);
			manifest.files = manifest.files.filter((entry) => entry.path !== blobPath(ownLayer));
			entries.delete(blobPath(ownLayer));
		});

		const target = await tempDir(t);
		const result = await runCli([
			'import',
			'--dir',
			target,
			'--trusted-key',
			flags['trusted-key'][0] as string,
			hostile,
		]);
		t.is(result.code, 1, result.stdout + result.stderr);
		t.regex(result.stdout, /not imported: elasticsearch\/elasticsearch:9\.1\.3/);
		const imported = await manifestOfMirror(target).catch(() => ({images: {repositories: {}}}));
		t.is(imported.images?.repositories?.['elasticsearch/elasticsearch'], undefined);
	},
);

/** A preload that SIGKILLs the process once it has `rm`ed (or `rename`d) its `n`th image blob. */
async function killOnBlob(t: ExecutionContext, n: number, call: 'rm' | 'rename' = 'rm'): Promise<string> {
	const file = path.join(await tempDir(t, 'preload-'), 'kill.mjs');
	await writeFile(
		file,
		`import {createRequire, syncBuiltinESMExports} from 'node:module';
const promises = createRequire(import.meta.url)('node:fs/promises');
const original = promises.${call};
let seen = 0;
promises.${call} = async (target, ...rest) => {
	const done = await original(target, ...rest);
	if (String(target).includes('/oci/blobs/sha256/') && ++seen === ${n}) {
		process.kill(process.pid, 'SIGKILL');
	}
	return done;
};
syncBuiltinESMExports();
`,
	);
	return file;
}

/** Every listed tag's closure is in the tree. */
async function assertNoHoles(t: ExecutionContext, dir: string): Promise<void> {
	const images = (await manifestOfMirror(dir)).images;
	for (const [repository, tags] of Object.entries(
		images.repositories as Record<string, Record<string, {digest: string}>>,
	)) {
		for (const [tag, entry] of Object.entries(tags)) {
			for (const digest of closureOf(images, entry.digest)) {
				t.truthy(
					await stat(path.join(dir, blobPath(digest))).catch(() => undefined),
					`${repository}:${tag} reaches ${digest}, which is not in the tree`,
				);
			}
		}
	}
}

gated(
	'prune killed while it deletes blobs leaves no listed tag reaching a deleted blob; the next prune finishes',
	async (t) => {
		const registry = await startRegistry(t);
		await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.2', {variant: 'old'});
		await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3', {variant: 'new'});
		const flags = await imageFlags(
			t,
			registry.url,
			'elasticsearch/elasticsearch:9.1.2,elasticsearch/elasticsearch:9.1.3',
			{
				'image-platforms': 'linux/amd64,linux/arm64',
			},
		);
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'success', JSON.stringify(summary.failed));

		const preload = await killOnBlob(t, 1);
		const killed = await startCli(['prune', '--dir', flags.dir, '--keep-image-tags', '1', '--yes'], {
			env: {NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`},
		}).result;
		t.is(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);

		await assertNoHoles(t, flags.dir);

		const again = await runCli(['prune', '--dir', flags.dir, '--keep-image-tags', '1', '--yes']);
		t.is(again.code, 0, again.stdout + again.stderr);
		const verify = await runCli([
			'verify',
			'--dir',
			flags.dir,
			'--trusted-key',
			flags['trusted-key'][0] as string,
		]);
		t.is(verify.code, 0, verify.stdout + verify.stderr);
		t.deepEqual(
			Object.keys((await manifestOfMirror(flags.dir)).images.repositories['elasticsearch/elasticsearch']),
			['9.1.3'],
		);
	},
);

gated(
	'a platform added at the source reaches a mirror that imported the tag before, through export --since',
	async (t) => {
		const registry = await startRegistry(t);
		const image = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const arm = image.manifests.find(
			(manifest) => manifest.platform === 'linux/arm64',
		) as (typeof image.manifests)[number];
		const flags = await imageFlags(t, registry.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		t.is((await runSync(flags, noCredentials(flags.dir))).summary.result, 'success');
		const full = path.join(await tempDir(t), 'full.tar');
		await exportBundle({location: dirLocation(flags.dir), out: full, selection: {}});
		const target = await tempDir(t);
		const first = await runCli([
			'import',
			'--dir',
			target,
			'--trusted-key',
			flags['trusted-key'][0] as string,
			full,
		]);
		t.is(first.code, 0, first.stdout + first.stderr);

		const wider = await runSync(
			{...flags, 'image-platforms': 'linux/amd64,linux/arm64'},
			noCredentials(flags.dir),
		);
		t.is(wider.summary.result, 'success', JSON.stringify(wider.summary.failed));
		const delta = path.join(await tempDir(t), 'delta.tar');
		await exportBundle({location: dirLocation(flags.dir), out: delta, selection: {}, since: 'last'});
		const second = await runCli([
			'import',
			'--dir',
			target,
			'--trusted-key',
			flags['trusted-key'][0] as string,
			delta,
		]);
		t.is(second.code, 0, second.stdout + second.stderr);

		const images = (await manifestOfMirror(target)).images;
		const tag = images.repositories['elasticsearch/elasticsearch']['9.1.3'];
		t.deepEqual([...tag.platforms].sort(), ['linux/amd64', 'linux/arm64']);
		t.true(images.blobs[image.index?.digest as string].refs.includes(arm.digest));
		for (const digest of [arm.digest, arm.config, ...arm.layers]) {
			t.truthy(images.blobs[digest], digest);
			t.truthy(await stat(path.join(target, blobPath(digest))).catch(() => undefined), digest);
		}

		const verify = await runCli([
			'verify',
			'--dir',
			target,
			'--trusted-key',
			flags['trusted-key'][0] as string,
		]);
		t.is(verify.code, 0, verify.stdout + verify.stderr);
	},
);

gated(
	'credentials stay out of failure reasons, JSON events and status.json of a failing authenticated run',
	async (t) => {
		const registry = await startRegistry(t);
		const proxy = await startTokenProxy(t, registry.url, {
			credentials: {username: 'mirror', password: 'pa55-w0rd-xyz'},
			redirectBlobs: true,
		});
		const image = await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3');
		proxy.corrupt.add(image.manifests[0]?.layers[1] as string);
		const flags = await imageFlags(t, proxy.url, 'kibana/kibana:9.1.3');
		const home = await tempDir(t, 'home-');
		const encoded = Buffer.from('mirror:pa55-w0rd-xyz').toString('base64');
		await writeFile(path.join(home, 'config.json'), JSON.stringify({auths: {[proxy.host]: {auth: encoded}}}));
		const result = await runCli(['sync', '--json', ...toArgs(flags)], {
			env: {DOCKER_CONFIG: home, HOME: home},
		});
		t.is(result.code, 1, result.stdout + result.stderr);
		const status = await readFile(path.join(flags.dir, '.mirror/status.json'), 'utf8');
		t.regex(status, /failed/);
		for (const text of [result.stdout, result.stderr, status]) {
			t.notRegex(text, /pa55-w0rd-xyz/);
			t.false(text.includes(encoded));
		}
		t.regex(result.stdout, /kibana\/kibana:9\.1\.3/);
	},
);

gated(
	'sync killed (SIGKILL) mid-download of a layer: no tag, nothing partial in the tree; the next run resumes the layer',
	async (t) => {
		const config = Buffer.from(
			JSON.stringify({os: 'linux', architecture: 'amd64', rootfs: {type: 'layers'}}),
		);
		const layer = Buffer.alloc(2 * 1024 * 1024, 7);
		const manifest = Buffer.from(
			JSON.stringify({
				schemaVersion: 2,
				mediaType: 'application/vnd.oci.image.manifest.v1+json',
				config: {
					mediaType: 'application/vnd.oci.image.config.v1+json',
					digest: sha256(config),
					size: config.length,
				},
				layers: [
					{mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length},
				],
			}),
		);
		let slow = true;
		const ranges: string[] = [];
		const layerPath = `/v2/slow/blobs/${sha256(layer)}`;
		const server = createServer((request, response) => {
			if (request.url === '/v2/') {
				response.writeHead(200).end('{}');
			} else if (request.url === '/v2/slow/manifests/1') {
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(manifest);
			} else if (request.url === `/v2/slow/blobs/${sha256(config)}`) {
				response.writeHead(200).end(config);
			} else if (request.url === layerPath) {
				const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
				ranges.push(request.headers.range ?? '');
				const start = range && request.headers['if-range'] === `"${sha256(layer)}"` ? Number(range[1]) : 0;
				response.writeHead(start > 0 ? 206 : 200, {
					etag: `"${sha256(layer)}"`,
					'content-length': String(layer.length - start),
					...(start > 0 ? {'content-range': `bytes ${start}-${layer.length - 1}/${layer.length}`} : {}),
				});
				let at = start;
				const pump = () => {
					if (at >= layer.length || response.destroyed) {
						response.end();
						return;
					}

					const next = Math.min(layer.length, at + (slow ? 16 * 1024 : layer.length));
					response.write(layer.subarray(at, next));
					at = next;
					setTimeout(pump, slow ? 50 : 0);
				};
				pump();
			} else {
				response.writeHead(404).end('{"errors":[]}');
			}
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		t.teardown(() => {
			server.closeAllConnections();
			server.close();
		});
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		const flags = await imageFlags(t, url, 'slow:1', {'image-platforms': 'linux/amd64'});
		const {child, result} = startCli(['sync', '--json', ...toArgs(flags)], {env: noCredentials(flags.dir)});
		const tmp = path.join(flags.dir, '.mirror/tmp');
		const partBytes = async () => {
			const names = await readdir(tmp).catch(() => [] as string[]);
			const sizes = await Promise.all(
				names
					.filter((name) => name.endsWith('.part'))
					.map(async (name) => (await stat(path.join(tmp, name))).size),
			);
			return Math.max(0, ...sizes);
		};
		const deadline = Date.now() + 20_000;
		while ((await partBytes()) < 256 * 1024 && Date.now() < deadline) {
			await new Promise((resolve) => {
				setTimeout(resolve, 25);
			});
		}

		const kept = await partBytes();
		t.true(kept >= 256 * 1024, String(kept));
		child.kill('SIGKILL');
		t.is((await result).signal, 'SIGKILL');
		const after = await manifestOfMirror(flags.dir).catch(() => ({}));
		t.deepEqual(after.images?.repositories ?? {}, {});
		t.is(await stat(path.join(flags.dir, blobPath(sha256(layer)))).catch(() => undefined), undefined);

		slow = false;
		const again = await runSync(flags, noCredentials(flags.dir));
		t.is(again.summary.result, 'success', JSON.stringify(again.summary.failed));
		const resumed = again.events.find(
			(event) => event.type === 'download' && event.path === blobPath(sha256(layer)),
		) as {resumedFrom?: number} | undefined;
		t.true((resumed?.resumedFrom ?? 0) > 0, JSON.stringify(resumed));
		t.true((await readFile(path.join(flags.dir, blobPath(sha256(layer))))).equals(layer));
		t.is((await manifestOfMirror(flags.dir)).images.repositories.slow['1'].digest, sha256(manifest));
	},
);

test('a bundle manifest with a foreign (nondistributable) layer, listed as sync lists it, checks out on import', async (t) => {
	const config = Buffer.from(JSON.stringify({os: 'windows', architecture: 'amd64'}));
	const layer = Buffer.from('own layer');
	const foreign = {
		mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
		digest: sha256(Buffer.from('a windows base layer')),
		size: 20,
		urls: ['https://mcr.microsoft.com/v2/windows/blobs/x'],
	};
	const bytes = Buffer.from(
		JSON.stringify({
			schemaVersion: 2,
			mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
			config: {
				mediaType: 'application/vnd.docker.container.image.v1+json',
				digest: sha256(config),
				size: config.length,
			},
			layers: [
				foreign,
				{
					mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
					digest: sha256(layer),
					size: layer.length,
				},
			],
		}),
	);
	const dir = await tempDir(t);
	const staged = new Map<string, string>();
	const files = [];
	for (const each of [config, layer, bytes]) {
		const file = path.join(dir, sha256(each).slice(7));
		await writeFile(file, each);
		staged.set(blobPath(sha256(each)), file);
		files.push({
			path: blobPath(sha256(each)),
			size: each.length,
			sha512: '',
			modified: new Date().toISOString(),
		});
	}

	// What sync records: foreign layers are in neither blobs nor refs.
	const checked = await checkBundleImages(
		{
			files,
			images: {
				repositories: {},
				blobs: [
					{digest: sha256(config), size: config.length, publishedAt: ''},
					{digest: sha256(layer), size: layer.length, publishedAt: ''},
					{
						digest: sha256(bytes),
						size: bytes.length,
						mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
						refs: [sha256(config), sha256(layer)],
						platform: 'windows/amd64',
						publishedAt: '',
					},
				],
			},
		} as unknown as Parameters<typeof checkBundleImages>[0],
		staged,
	);
	t.deepEqual([...checked.broken], []);
	t.true(checked.blobs.has(sha256(bytes)));
});

gated(
	'a manifest over 4 MiB and one served under another media type fail with one line each; an empty layer (size 0) is mirrored',
	async (t) => {
		const config = Buffer.from(
			JSON.stringify({os: 'linux', architecture: 'amd64', rootfs: {type: 'layers'}}),
		);
		const empty = Buffer.alloc(0);
		const manifestOf = (padding: string) =>
			Buffer.from(
				JSON.stringify({
					schemaVersion: 2,
					mediaType: 'application/vnd.oci.image.manifest.v1+json',
					config: {
						mediaType: 'application/vnd.oci.image.config.v1+json',
						digest: sha256(config),
						size: config.length,
					},
					layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(empty), size: 0}],
					annotations: {padding},
				}),
			);
		const small = manifestOf('');
		const huge = manifestOf('x'.repeat(5 * 1024 * 1024));
		const routes: Record<string, (response: import('node:http').ServerResponse) => void> = {
			'/v2/': (response) => response.writeHead(200).end('{}'),
			'/v2/ok/manifests/1': (response) =>
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(small),
			'/v2/huge/manifests/1': (response) =>
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(huge),
			'/v2/liar/manifests/1': (response) =>
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.index.v1+json'}).end(small),
		};
		for (const repository of ['ok', 'huge', 'liar']) {
			routes[`/v2/${repository}/blobs/${sha256(config)}`] = (response) => response.writeHead(200).end(config);
			routes[`/v2/${repository}/blobs/${sha256(empty)}`] = (response) =>
				response.writeHead(200, {'content-length': '0'}).end();
		}

		const registry = await fakeRegistry(t, routes);
		const flags = await imageFlags(t, registry.url, 'ok:1,huge:1,liar:1', {'image-platforms': 'linux/amd64'});
		const {summary} = await runSync(flags, noCredentials(flags.dir));
		t.is(summary.result, 'failed');
		const reasons = Object.fromEntries(summary.failed.map((each) => [each.path, each.reason]));
		t.regex(reasons['huge:1'] ?? '', /larger than 4194304 bytes/);
		t.regex(
			reasons['liar:1'] ?? '',
			/served as application\/vnd\.oci\.image\.index\.v1\+json but its mediaType is/,
		);
		for (const reason of Object.values(reasons)) {
			t.false(reason.includes('\n'), reason);
		}

		const images = (await manifestOfMirror(flags.dir)).images;
		t.deepEqual(Object.keys(images.repositories), ['ok']);
		t.is(images.blobs[sha256(empty)]?.size, 0);
		t.is((await stat(path.join(flags.dir, blobPath(sha256(empty))))).size, 0);
	},
);

gated(
	'verify --repair killed while it moves a bad shared layer out leaves no listed tag reaching it; the next --repair and sync bring the tags back',
	async (t) => {
		const registry = await startRegistry(t);
		const image = await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3');
		const flags = await imageFlags(t, registry.url, 'elasticsearch/elasticsearch:9.1.3,kibana/kibana:9.1.3', {
			'image-platforms': 'linux/amd64,linux/arm64',
		});
		t.is((await runSync(flags, noCredentials(flags.dir))).summary.result, 'success');
		// The layer every platform of both images names, damaged at rest.
		const shared = path.join(flags.dir, blobPath(image.sharedLayer as string));
		const bytes = await readFile(shared);
		bytes[0] = (bytes[0] ?? 0) ^ 0xff;
		await writeFile(shared, bytes);

		const common2 = [
			'--dir',
			flags.dir,
			'--trusted-key',
			flags['trusted-key'][0] as string,
			'--image-registry',
			registry.url,
		];
		const preload = await killOnBlob(t, 1, 'rename');
		const killed = await startCli(['verify', '--repair', ...common2], {
			env: {NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, ...noCredentials(flags.dir)},
		}).result;
		t.is(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
		await assertNoHoles(t, flags.dir);

		const repaired = await runCli(['verify', '--repair', ...common2], {env: noCredentials(flags.dir)});
		t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
		await assertNoHoles(t, flags.dir);
		// Which tags the killed repair took down died with it: the next sync asks for them again.
		t.is((await runSync(flags, noCredentials(flags.dir))).summary.result, 'success');
		const images = (await manifestOfMirror(flags.dir)).images;
		t.deepEqual(Object.keys(images.repositories).sort(), ['elasticsearch/elasticsearch', 'kibana/kibana']);
		await assertNoHoles(t, flags.dir);
	},
);

gated(
	'a tag whose source lacks a selected platform is unchanged on the next run, not updated again',
	async (t) => {
		const registry = await startRegistry(t);
		await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3');
		const first = await imageFlags(t, registry.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64',
		});
		t.is((await runSync(first, noCredentials(first.dir))).summary.result, 'success');
		const server = await withServer(t, first.dir);
		const second = await imageFlags(t, server.url, 'elasticsearch/elasticsearch:9.1.3', {
			'image-platforms': 'linux/amd64,linux/arm64',
		});
		t.like((await runSync(second, noCredentials(second.dir))).summary.images, {updated: 1});
		const before = (await manifestOfMirror(second.dir)).images.repositories['elasticsearch/elasticsearch'][
			'9.1.3'
		];
		t.deepEqual(before.skipped, ['linux/arm64']);
		const again = await runSync(second, noCredentials(second.dir));
		t.like(again.summary.images, {updated: 0, unchanged: 1});
		const after = (await manifestOfMirror(second.dir)).images.repositories['elasticsearch/elasticsearch'][
			'9.1.3'
		];
		t.is(after.publishedAt, before.publishedAt);
	},
);
