/**
The directory store's flushes: renames into one folder close together share its fsync,
an fsync never begins before the renames it covers, the manifest waits for every
fsync asked for before it, and an artifact's files are flushed before any rename.
*/
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type {ArtifactRef} from '../src/agent/catalog.js';
import {directorySyncs} from '../src/store/dir/atomic.js';
import {publishArtifact} from '../src/store/dir/publish.js';
import {directoryStore} from '../src/store/dir/store.js';
import {layout, tempName, treePath} from '../src/store/layout.js';
import {emptyManifest} from '../src/store/manifest.js';
import {tempDir} from './helpers/temp.js';

/** A flush that waits for the test to let it finish, and the record of the folders flushed. */
function heldFlushes() {
	const started: string[] = [];
	const releases: Array<() => void> = [];
	const flush = (directory: string) =>
		new Promise<void>((resolve) => {
			started.push(directory);
			releases.push(resolve);
		});
	const releaseAll = () => {
		for (const release of releases.splice(0)) {
			release();
		}
	};

	return {flush, started, releaseAll};
}

const tick = () =>
	new Promise((resolve) => {
		setImmediate(resolve);
	});

test('requests for one folder made together share one fsync', async (t) => {
	const {flush, started, releaseAll} = heldFlushes();
	const syncs = directorySyncs(flush);
	const requests = [syncs.request('/a'), syncs.request('/a'), syncs.request('/a')];
	await tick();
	t.deepEqual(started, ['/a']);
	releaseAll();
	await Promise.all(requests);
	t.deepEqual(started, ['/a']);
});

test('a request while its folder is being flushed gets an fsync of its own, begun after that one ends', async (t) => {
	const {flush, started, releaseAll} = heldFlushes();
	const syncs = directorySyncs(flush);
	let firstDone = false;
	const first = syncs.request('/a').then(() => {
		firstDone = true;
	});
	await tick();
	t.deepEqual(started, ['/a']);

	// A rename made now is not covered by the fsync already running.
	let secondDone = false;
	const second = syncs.request('/a').then(() => {
		secondDone = true;
	});
	const third = syncs.request('/a');
	await tick();
	t.deepEqual(started, ['/a'], 'the second fsync waits for the first to end');
	releaseAll();
	await first;
	t.true(firstDone);
	await tick();
	t.false(secondDone, 'the first fsync does not answer for renames made while it ran');
	t.deepEqual(started, ['/a', '/a']);
	releaseAll();
	await Promise.all([second, third]);
	t.true(secondDone);
	t.is(started.length, 2, 'the requests made during the first share the second');
});

test('other folders are flushed on their own, at once', async (t) => {
	const {flush, started, releaseAll} = heldFlushes();
	const syncs = directorySyncs(flush);
	const requests = [syncs.request('/a'), syncs.request('/b')];
	await tick();
	t.deepEqual([...started].sort(), ['/a', '/b']);
	releaseAll();
	await Promise.all(requests);
});

test('folders marked between two settles are flushed once each, by the settle', async (t) => {
	const {flush, started, releaseAll} = heldFlushes();
	const syncs = directorySyncs(flush);
	for (let file = 0; file < 10; file++) {
		syncs.mark('/a');
	}

	syncs.mark('/b');
	await tick();
	t.deepEqual(started, [], 'marking flushes nothing yet');
	let settled = false;
	const settling = syncs.settle().then(() => {
		settled = true;
	});
	await tick();
	t.deepEqual([...started].sort(), ['/a', '/b']);
	t.false(settled);
	releaseAll();
	await settling;
	await syncs.settle();
	t.is(started.length, 2, 'a second settle has nothing left to flush');
});

test('settle waits for every fsync asked for before it, and reports a failed one once', async (t) => {
	const {flush, started, releaseAll} = heldFlushes();
	let fail = false;
	const syncs = directorySyncs(async (directory) => {
		await flush(directory);
		if (fail) {
			throw new Error('EIO on flush');
		}
	});
	void syncs.request('/a');
	let settled = false;
	const settling = syncs.settle().then(() => {
		settled = true;
	});
	await tick();
	t.false(settled, 'settle waits for the fsync in flight');
	releaseAll();
	await settling;
	t.true(settled);

	fail = true;
	void syncs.request('/b');
	const failing = syncs.settle();
	await tick();
	releaseAll();
	await t.throwsAsync(failing, {message: 'EIO on flush'});
	await t.notThrowsAsync(syncs.settle(), 'reported once');
	t.deepEqual(started, ['/a', '/b']);
});

test("an artifact's three files are in place, 0644 and dated, when its folder flush is asked for", async (t) => {
	const root = await tempDir(t);
	const mirror = layout(root);
	await mkdir(mirror.tmp, {recursive: true});
	const ref = {
		path: 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
		fileName: 'elastic-agent-9.1.3-linux-x86_64.tar.gz',
	} as ArtifactRef;
	const partPath = path.join(mirror.tmp, `${tempName(ref.path)}.part`);
	await writeFile(partPath, 'the bytes', {mode: 0o600});
	const modified = new Date('2026-01-15T10:00:00Z');
	const target = treePath(mirror, ref.path);

	const seen: Array<{directory: string; present: boolean[]}> = [];
	const syncs = directorySyncs(async (directory) => {
		const present = await Promise.all(
			[target, `${target}.sha512`, `${target}.asc`].map((file) =>
				stat(file).then(
					() => true,
					() => false,
				),
			),
		);
		seen.push({directory, present});
	});
	await publishArtifact(
		mirror,
		{
			ref,
			partPath,
			sha512: 'x',
			sha512Sidecar: Buffer.from('sum'),
			ascSidecar: Buffer.from('sig'),
			modified,
			replacing: false,
		},
		syncs,
	);
	await syncs.settle();
	t.deepEqual(seen, [{directory: path.dirname(target), present: [true, true, true]}]);
	t.is(await readFile(target, 'utf8'), 'the bytes');
	t.is(await readFile(`${target}.asc`, 'utf8'), 'sig');
	for (const file of [target, `${target}.sha512`, `${target}.asc`]) {
		const info = await stat(file);
		t.is(info.mode & 0o777, 0o644, file);
		t.is(info.mtime.getTime(), modified.getTime(), file);
	}
});

/** Publish one artifact ("the bytes", stand-in sidecars) through `store`; its ref. */
async function publishOne(store: ReturnType<typeof directoryStore>): Promise<ArtifactRef> {
	const ref = {
		path: 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
		fileName: 'elastic-agent-9.1.3-linux-x86_64.tar.gz',
	} as ArtifactRef;
	const partPath = path.join(store.tmp, `${tempName(ref.path)}.part`);
	await writeFile(partPath, 'the bytes');
	await store.publishArtifact({
		ref,
		partPath,
		sha512: 'x',
		sha512Sidecar: Buffer.from('sum'),
		ascSidecar: Buffer.from('sig'),
		modified: undefined,
		replacing: false,
	});
	return ref;
}

test('the directory store publishes into a folder it has to make, then lists it', async (t) => {
	const root = await tempDir(t);
	const store = directoryStore(layout(root));
	const lock = await store.lock(() => undefined);
	t.teardown(() => lock.release());
	const ref = await publishOne(store);
	t.is(await readFile(path.join(root, ref.path), 'utf8'), 'the bytes');
	t.is((await stat(path.dirname(path.join(root, ref.path)))).mode & 0o777, 0o755);
	await store.writeManifest(emptyManifest());
	t.truthy(await stat(path.join(root, '.mirror/manifest.json')));
});

test('the directory store writes the manifest only once the folders of what it published are flushed', async (t) => {
	const root = await tempDir(t);
	const {flush, started, releaseAll} = heldFlushes();
	const store = directoryStore(layout(root), undefined, flush);
	const lock = await store.lock(() => undefined);
	t.teardown(() => lock.release());
	// The publish itself does not flush the folder: the next manifest write does, once for all...
	const ref = await publishOne(store);
	await tick();
	t.deepEqual(started, []);

	// ...and is written only once that flush is done.
	const manifestPath = path.join(root, '.mirror/manifest.json');
	let written = false;
	const writing = store.writeManifest(emptyManifest()).then(() => {
		written = true;
	});
	// Long enough for the write to happen, were it not waiting (it takes a few ms).
	await new Promise((resolve) => {
		setTimeout(resolve, 300);
	});
	t.false(written);
	t.deepEqual(started, [path.dirname(path.join(root, ref.path))]);
	await t.throwsAsync(stat(manifestPath), {code: 'ENOENT'});
	releaseAll();
	await writing;
	t.truthy(await stat(manifestPath));
});
