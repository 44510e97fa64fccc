/**
What sync does at once for many files: an artifact's two sidecars are asked for
together, a verified artifact is published while the next one downloads, and neither
lets a file whose sidecar failed into the tree, nor leaves a killed run's tree with an
artifact that is partial, unlisted-but-broken, or listed and missing.
*/
import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {wantedArtifacts} from '../src/agent/catalog.js';
import {runLocked} from '../src/agent/run.js';
import {loadSyncConfig} from '../src/config/index.js';
import type {SyncEvent} from '../src/mirror/events.js';
import {directoryStore} from '../src/store/dir/store.js';
import {layout} from '../src/store/layout.js';
import type {MirrorStore} from '../src/store/store.js';
import {loadTrustedKeys} from '../src/trust/keys.js';
import {createHttpClient} from '../src/upstream/client.js';
import type {HttpClient} from '../src/upstream/types.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, startCli, syncFlags, toArgs} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const platforms = ['linux-x86_64', 'linux-arm64'];

/** Wait for `condition`, up to `timeoutMs`; whether it came true. */
async function within(condition: () => boolean, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) {
			return false;
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 10);
		});
	}

	return true;
}

/** The locked run of a sync of `platforms` of 9.1.3, with the client and store given a chance to be wrapped. */
async function lockedRun(
	t: Parameters<typeof withUpstream>[0],
	wrap: {client?: (client: HttpClient) => HttpClient; store?: (store: MirrorStore) => MirrorStore},
	concurrency: number,
) {
	const setup = await withUpstream(t, key, {versions: ['9.1.3'], platforms});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: '9.1.3',
		platforms: platforms.join(','),
	});
	const {options} = loadSyncConfig({flags: flags as never, env: {}, cwd: process.cwd()});
	const client = createHttpClient(options.http);
	t.teardown(() => client.close());
	const store = directoryStore(layout(setup.dir));
	const events: SyncEvent[] = [];
	const summary = await runLocked(
		{
			upstream: setup.upstream.url,
			concurrency,
			dryRun: false,
			client: wrap.client?.(client) ?? client,
			trusted: await loadTrustedKeys([setup.keyPath]),
			store: wrap.store?.(store) ?? store,
			wanted: wantedArtifacts({products: ['elastic-agent'], versions: ['9.1.3'], platforms, fips: false}),
			versions: ['9.1.3'],
			versionWarnings: [],
			keys: false,
			startedAt: new Date(),
		},
		(event) => {
			events.push(event);
		},
	);
	return {...setup, summary, events};
}

test('a new artifact has its .sha512 and .asc asked for at once', async (t) => {
	const asked = new Set<string>();
	// Each .sha512 is held until its .asc is asked for: one after the other, it never would be.
	const together: boolean[] = [];
	const {summary, upstream, dir} = await lockedRun(
		t,
		{
			client: (client) => ({
				...client,
				async fetch(url, options) {
					asked.add(url);
					if (url.endsWith('.sha512')) {
						const asc = `${url.slice(0, -'.sha512'.length)}.asc`;
						together.push(await within(() => asked.has(asc), 3000));
					}

					return client.fetch(url, options);
				},
			}),
		},
		1,
	);
	t.is(summary.result, 'success');
	t.deepEqual(together, [true, true]);
	for (const ref of upstream.refs) {
		t.deepEqual(await readFile(path.join(dir, ref.path)), upstream.files.get(ref.path));
	}
});

test('a verified artifact is published while the next one downloads: the slot is the download, not the publish', async (t) => {
	let overlapped: boolean | undefined;
	let requests: () => number = () => 0;
	const result = await lockedRun(
		t,
		{
			store: (store) => ({
				...store,
				async publishArtifact(artifact) {
					// The first publish waits for the second body to be asked for, with one download slot.
					overlapped ??= await within(() => requests() >= 2, 3000);
					return store.publishArtifact(artifact);
				},
			}),
			client: (client) => {
				let bodies = 0;
				requests = () => bodies;
				return {
					...client,
					download(url, target) {
						bodies++;
						return client.download(url, target);
					},
				};
			},
		},
		1,
	);
	t.true(overlapped);
	t.is(result.summary.result, 'success');
	t.is(result.summary.published, 2);
	const manifest = JSON.parse(await readFile(path.join(result.dir, '.mirror/manifest.json'), 'utf8'));
	t.deepEqual(Object.keys(manifest.files).sort(), result.upstream.refs.map((ref) => ref.path).sort());
});

test('a sidecar that fails while the other arrives keeps its artifact out of the tree, and its body is never asked for', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64', 'darwin-x86_64'],
	});
	const [ascFails, shaMalformed, good] = upstream.refs.map((ref) => ref.path) as [string, string, string];
	upstream.faults.set(`${ascFails}.asc`, {statuses: [503, 503, 503]});
	upstream.files.set(`${shaMalformed}.sha512`, Buffer.from('not a checksum line\n'));

	const {summary} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {
			versions: '9.1.3',
			platforms: 'linux-x86_64,linux-arm64,darwin-x86_64',
			retries: '2',
		}),
	);
	t.is(summary.result, 'failed');
	const failed = Object.fromEntries(summary.failed.map((failure) => [failure.path, failure.code]));
	t.deepEqual(Object.keys(failed).sort(), [ascFails, shaMalformed].sort());
	t.is(failed[shaMalformed], 'ERR_SIDECAR');
	t.deepEqual(
		upstream.bodyRequests().map((request) => request.path),
		[good],
	);
	const tree = (await listFiles(dir)).filter((file) => file.startsWith('downloads/'));
	t.deepEqual(tree, [good, `${good}.asc`, `${good}.sha512`]);
});

test('an artifact missing upstream with both its sidecars is not published, though its .asc was asked for at once', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {versions: ['9.1.3'], platforms});
	const [present, absent] = upstream.refs.map((ref) => ref.path) as [string, string];
	for (const file of [absent, `${absent}.sha512`, `${absent}.asc`]) {
		upstream.files.delete(file);
	}

	const {summary, events} = await runSync(
		syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: platforms.join(',')}),
	);
	t.is(summary.notPublished, 1);
	t.is(summary.published, 1);
	t.deepEqual(summary.failed, []);
	t.true(events.some((event) => event.type === 'not-published' && event.path === absent));
	t.truthy(await stat(path.join(dir, present)));
	await t.throwsAsync(stat(path.join(dir, absent)));
});

test('kill -9 while many artifacts download and publish: the tree holds only whole, listed-or-verifiable artifacts; the next run completes it', async (t) => {
	const versions = ['9.1.0', '9.1.1', '9.1.2', '9.1.3', '9.1.4'];
	const many = ['linux-x86_64', 'linux-arm64', 'darwin-x86_64', 'darwin-aarch64'];
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions,
		platforms: many,
		size: 256 * 1024,
	});
	for (const ref of upstream.refs) {
		upstream.faults.set(ref.path, {bytesPerSecond: 1024 * 1024});
	}

	const args = [
		'sync',
		'--json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {versions: versions.join(','), platforms: many.join(',')}),
		),
	];
	const manifestPath = path.join(dir, '.mirror/manifest.json');
	const listed = async (): Promise<string[]> => {
		const text = await readFile(manifestPath, 'utf8').catch(() => '{"files":{}}');
		try {
			return Object.keys((JSON.parse(text) as {files: Record<string, unknown>}).files);
		} catch {
			return [];
		}
	};

	const {child, result} = startCli(args);
	// Killed once some artifacts are listed and others are still to come.
	const deadline = Date.now() + 30_000;
	let before: string[] = [];
	while (before.length === 0 && Date.now() < deadline) {
		await new Promise((resolve) => {
			setTimeout(resolve, 20);
		});
		before = await listed();
	}

	child.kill('SIGKILL');
	const killed = await result;
	t.is(killed.signal, 'SIGKILL', 'killed mid-run, not finished before');
	t.true(before.length > 0 && before.length < upstream.refs.length, `${before.length} listed when killed`);

	// Every artifact in the tree is whole and has both sidecars; every listed one is in the tree.
	const tree = (await listFiles(dir)).filter((file) => file.startsWith('downloads/'));
	const artifacts = tree.filter((file) => !file.endsWith('.sha512') && !file.endsWith('.asc'));
	// Buffer.equals: ava's deepEqual walks 256 KiB buffers byte by byte, for seconds.
	const same = async (file: string) =>
		(await readFile(path.join(dir, file))).equals(upstream.files.get(file) ?? Buffer.alloc(0));
	for (const file of artifacts) {
		t.true(await same(file), file);
		t.true(tree.includes(`${file}.sha512`) && tree.includes(`${file}.asc`), `${file} has its sidecars`);
	}

	for (const file of await listed()) {
		t.true(artifacts.includes(file), `${file} is listed and in the tree`);
	}

	for (const ref of upstream.refs) {
		upstream.faults.delete(ref.path);
	}

	const rerun = await runCli(args);
	t.is(rerun.code, 0, rerun.stderr);
	const summary = rerun.lines.at(-1)?.summary as {published: number; present: number};
	t.is(summary.published + summary.present, upstream.refs.length);
	t.deepEqual((await listed()).sort(), upstream.refs.map((ref) => ref.path).sort());
	for (const ref of upstream.refs) {
		for (const file of [ref.path, `${ref.path}.sha512`, `${ref.path}.asc`]) {
			t.true(await same(file), file);
		}
	}
});
