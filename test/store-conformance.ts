/**
One set of tests for every store backend, as bandersnatch runs one suite against each
of its storage plugins: each test is declared once and runs for the directory store
and for the S3 store (the test radosgw). Stores are opened only through
store/open.ts, from a StoreLocation, as the commands open them. What a backend may
not differ in: publish order, one version per read, lock and lease, quarantine,
state, and what the read side reports.
*/
import {createHash, randomBytes} from 'node:crypto';
import {writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {Readable} from 'node:stream';
import test, {type ExecutionContext} from 'ava';
import {type ArtifactRef, artifactRef, getPlatform, getProduct} from '../src/agent/catalog.js';
import {LockHeldError} from '../src/errors.js';
import {emptyManifest, type Manifest, manifestEntry} from '../src/store/manifest.js';
import {parseStatus, type RunRecord} from '../src/store/status.js';
import type {HeldLock, MirrorStore, VerifiedArtifact} from '../src/store/store.js';
import {foreignLock} from './helpers/foreign-lock.js';
import {gatedTest} from './helpers/gate.js';
import {ensureS3} from './helpers/s3.js';
import {directoryBackend, type StoreBackend, s3Backend, type TestMirror} from './helpers/store-backends.js';

// The S3 store uses the SDK in this process; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('S3 store conformance', await ensureS3(), {serial: true});

const backends: ReadonlyArray<{backend: StoreBackend; declare: typeof s3Test}> = [
	{backend: directoryBackend, declare: test},
	{backend: s3Backend, declare: s3Test},
];

/** Declare `title` once for every backend, each run on a fresh empty mirror. */
function conformance(title: string, body: (t: ExecutionContext, mirror: TestMirror) => Promise<void>): void {
	for (const {backend, declare} of backends) {
		declare(`${backend.name}: ${title}`, async (t) => body(t, await backend.fresh(t)));
	}
}

const noWarnings = (message: string) => {
	throw new Error(`unexpected warning: ${message}`);
};

function agentRef(platformId = 'linux-x86_64'): ArtifactRef {
	const product = getProduct('elastic-agent');
	const platform = getPlatform(platformId);
	if (!product || !platform) {
		throw new Error('the catalog lost elastic-agent or a platform');
	}

	return artifactRef(product, '9.1.3', platform);
}

const folderOf = (relative: string) => relative.slice(0, relative.lastIndexOf('/'));
const sha512 = (bytes: Uint8Array) => createHash('sha512').update(bytes).digest('hex');
const keyName = 'GPG-KEY-elastic-agent';
const manifestPath = '.mirror/manifest.json';
const lockPath = '.mirror/sync.lock';

/** The sidecars of one build of `ref` (the store checks nothing: that is trust's job). */
function sidecarsOf(ref: ArtifactRef, bytes: Uint8Array) {
	return {
		sha512Sidecar: Buffer.from(`${sha512(bytes)}  ${ref.fileName}\n`),
		ascSidecar: Buffer.from(`-----BEGIN PGP SIGNATURE-----\n${sha512(bytes).slice(0, 32)}\n`),
	};
}

/** A downloaded build of `ref`, staged in the store's local temp folder as sync leaves it. */
async function staged(
	store: MirrorStore,
	ref: ArtifactRef,
	bytes: Uint8Array,
	{replacing = false, modified}: {replacing?: boolean; modified?: Date} = {},
): Promise<VerifiedArtifact> {
	const partPath = path.join(store.tmp, `part-${randomBytes(6).toString('hex')}`);
	await writeFile(partPath, bytes);
	return {ref, partPath, sha512: sha512(bytes), ...sidecarsOf(ref, bytes), modified, replacing};
}

async function readAll(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

const sleep = (ms: number) =>
	new Promise((resolve) => {
		setTimeout(resolve, ms);
	});

/** Which of `versions` `bytes` is, or -1 for none of them (a mix, or cut short). */
const versionOf = (bytes: Buffer, versions: readonly Buffer[]) =>
	versions.findIndex((one) => one.equals(bytes));

function runRecord(result: RunRecord['result'], published: number): RunRecord {
	return {
		startedAt: new Date(Date.now() - 1000).toISOString(),
		finishedAt: new Date().toISOString(),
		result,
		counts: {published, present: 0, notPublished: 0, failed: 0, bytes: published * 10},
	};
}

async function lockRecord(
	mirror: TestMirror,
): Promise<{host?: string; pid?: number; token?: string; expiresAt?: string} | undefined> {
	const raw = await mirror.readRaw(lockPath);
	return raw && JSON.parse(raw.toString('utf8'));
}

/** Release `lock`, which takes the lock out of the store. */
async function releaseRemoves(t: ExecutionContext, mirror: TestMirror, lock: HeldLock): Promise<void> {
	await lock.release();
	t.is(await mirror.readRaw(lockPath), undefined, 'release removes the lock');
}

/** Open the mirror and hold its lock for the rest of the test, as a writing command does. */
async function openLocked(t: ExecutionContext, mirror: TestMirror): Promise<MirrorStore> {
	const store = await mirror.open();
	const lock = await store.lock(noWarnings);
	t.teardown(() => lock.release());
	return store;
}

conformance(
	'publish writes both sidecars before their artifact; a key file and the manifest are written when asked, in order',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		const ref = agentRef();
		const bytes = randomBytes(256 * 1024);
		const key = Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\nconformance\n');
		const trace = await mirror.trace(
			[ref.path, `${ref.path}.sha512`, `${ref.path}.asc`, keyName, manifestPath],
			[folderOf(ref.path), '', '.mirror'],
		);

		await store.publishArtifact(await staged(store, ref, bytes));
		await store.publishRootFile(keyName, key);
		const manifest: Manifest = {
			...emptyManifest(),
			files: {
				[ref.path]: manifestEntry(ref, {
					size: bytes.length,
					sha512: sha512(bytes),
					publishedAt: new Date(),
					upstreamModified: new Date('2025-12-31T00:00:00Z'),
				}),
			},
		};
		await store.writeManifest(manifest);

		const writes = await trace.stop();
		t.deepEqual(writes.slice(0, 2).sort(), [`${ref.path}.asc`, `${ref.path}.sha512`], writes.join('\n'));
		t.deepEqual(writes.slice(2), [ref.path, keyName, manifestPath], writes.join('\n'));
		const {sha512Sidecar, ascSidecar} = sidecarsOf(ref, bytes);
		t.true((await mirror.readRaw(ref.path))?.equals(bytes));
		t.true((await mirror.readRaw(`${ref.path}.sha512`))?.equals(sha512Sidecar));
		t.true((await mirror.readRaw(`${ref.path}.asc`))?.equals(ascSidecar));
		t.true((await mirror.readRaw(keyName))?.equals(key));
		t.deepEqual((await store.readManifest()).manifest, manifest);
	},
);

conformance(
	'replacing an artifact removes the old build first, then writes the new sidecars, then the new artifact',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		const ref = agentRef();
		const [old, fresh] = [randomBytes(100_000), randomBytes(120_000)];
		await store.publishArtifact(await staged(store, ref, old));
		const trace = await mirror.trace(
			[ref.path, `${ref.path}.sha512`, `${ref.path}.asc`],
			[folderOf(ref.path)],
		);

		await store.publishArtifact(await staged(store, ref, fresh, {replacing: true}));

		const writes = await trace.stop();
		t.is(writes.length, 4, writes.join('\n'));
		t.is(writes[0], ref.path, 'the old artifact goes first');
		t.deepEqual(writes.slice(1, 3).sort(), [`${ref.path}.asc`, `${ref.path}.sha512`], writes.join('\n'));
		t.is(writes[3], ref.path, 'the new artifact comes last');
		t.true((await store.readFile(ref.path))?.equals(fresh));
		t.true((await store.readFile(`${ref.path}.sha512`))?.equals(sidecarsOf(ref, fresh).sha512Sidecar));
		t.true((await store.readFile(`${ref.path}.asc`))?.equals(sidecarsOf(ref, fresh).ascSidecar));
	},
);

conformance(
	'a second reader polling during publishes never finds an artifact without both of its sidecars',
	async (t, mirror) => {
		const writer = await openLocked(t, mirror);
		const reader = await mirror.open();
		const refs = ['linux-x86_64', 'linux-arm64', 'windows-x86_64'].map((platform) => agentRef(platform));
		let publishing = true;
		const publishAll = (async () => {
			try {
				for (const replacing of [false, true]) {
					for (const ref of refs) {
						await writer.publishArtifact(await staged(writer, ref, randomBytes(200_000), {replacing}));
					}
				}
			} finally {
				publishing = false;
			}
		})();

		const alone: string[] = [];
		let polls = 0;
		const seen = new Set<string>();
		const poll = async () => {
			polls++;
			for (const ref of refs) {
				// The artifact first: sidecars are never removed here, so once it is seen they must be there.
				if (await reader.stat(ref.path)) {
					seen.add(ref.path);
					const [hash, signature] = await Promise.all([
						reader.stat(`${ref.path}.sha512`),
						reader.stat(`${ref.path}.asc`),
					]);
					if (!hash || !signature) {
						alone.push(ref.path);
					}
				}
			}
		};

		while (publishing) {
			await poll();
		}

		await publishAll;
		await poll();
		t.deepEqual(alone, [], 'an artifact was visible without its sidecars');
		t.deepEqual([...seen].sort(), refs.map((ref) => ref.path).sort());
		t.true(polls > 2, `only ${polls} polls`);
	},
);

conformance('openRead gives exactly one version of a file being replaced, never a mix', async (t, mirror) => {
	const store = await openLocked(t, mirror);
	const versions = [randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024)];
	await store.publishRootFile('big-file', versions[0] as Buffer);

	// Replaced, whole, after the first bytes were read: the rest still comes from the version opened.
	const stream = await store.openRead('big-file');
	const chunks = stream[Symbol.asyncIterator]();
	const first = await chunks.next();
	await store.publishRootFile('big-file', versions[1] as Buffer);
	const rest: Buffer[] = [first.value as Buffer];
	for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
		rest.push(next.value as Buffer);
	}

	t.not(versionOf(Buffer.concat(rest), versions), -1, 'a read across a replacement is one version');
	t.is(versionOf((await store.readFile('big-file')) as Buffer, versions), 1);

	// Slow readers while the file is replaced again and again.
	let replacing = true;
	const replace = (async () => {
		try {
			for (const index of [2, 0, 1, 2]) {
				await store.publishRootFile('big-file', versions[index] as Buffer);
			}
		} finally {
			replacing = false;
		}
	})();
	const read = async () => {
		const found: number[] = [];
		while (replacing) {
			const bytes: Buffer[] = [];
			for await (const chunk of await store.openRead('big-file')) {
				bytes.push(chunk as Buffer);
				await sleep(1);
			}

			found.push(versionOf(Buffer.concat(bytes), versions));
		}

		return found;
	};
	const found = (await Promise.all([read(), read(), read()])).flat();
	await replace;
	t.true(found.length > 0);
	t.false(found.includes(-1), `reads: ${found.join(', ')}`);
	t.is(versionOf((await store.readFile('big-file')) as Buffer, versions), 2);
});

conformance(
	'a second writer is refused (LockHeldError, the CLI exit 3) until the first releases; then it takes the lock',
	async (t, mirror) => {
		const first = await mirror.open();
		const second = await mirror.open();
		t.is(await first.assertUnlocked(), undefined, 'no lock yet');
		const lock = await first.lock(noWarnings);
		t.teardown(() => lock.release());
		t.notThrows(() => lock.assertHeld());
		t.like(await lockRecord(mirror), {host: os.hostname(), pid: process.pid});

		await t.throwsAsync(second.lock(noWarnings), {instanceOf: LockHeldError, code: 'ERR_LOCKED'});
		await t.throwsAsync(second.assertUnlocked(), {instanceOf: LockHeldError, code: 'ERR_LOCKED'});
		await t.throwsAsync(
			first.assertUnlocked(),
			{instanceOf: LockHeldError},
			'a reader in the holder process is refused too',
		);

		await releaseRemoves(t, mirror, lock);
		t.is(await second.assertUnlocked(), undefined);
		const again = await second.lock(noWarnings);
		t.notThrows(() => again.assertHeld());
		await releaseRemoves(t, mirror, again);
	},
);

conformance(
	'after release every write is refused with ERR_LOCK_LOST, and nothing reaches the store',
	async (t, mirror) => {
		const store = await mirror.open();
		const lock = await store.lock(noWarnings);
		const ref = agentRef();
		await store.publishRootFile(keyName, Buffer.from('key'));
		const artifact = await staged(store, ref, randomBytes(1000));
		await lock.release();

		t.throws(() => lock.assertHeld(), {code: 'ERR_LOCK_LOST'});
		const manifest = {...emptyManifest(), keys: {}};
		const writes: Array<[string, () => Promise<unknown>]> = [
			['publishArtifact', () => store.publishArtifact(artifact)],
			['publishRootFile', () => store.publishRootFile('GPG-KEY-elasticsearch', Buffer.from('other'))],
			['remove', () => store.remove(keyName)],
			['quarantine', () => store.quarantine('2026-01-01T00-00-00Z').move(keyName)],
			['writeManifest', () => store.writeManifest(manifest)],
			['writeState', () => store.writeState('export.json', '{}')],
			['recordRun', () => store.recordRun(runRecord('failed', 0))],
		];
		for (const [name, write] of writes) {
			await t.throwsAsync(write(), {code: 'ERR_LOCK_LOST'}, name);
		}

		t.is(await store.stat(ref.path), undefined);
		t.is(await store.stat('GPG-KEY-elasticsearch'), undefined);
		t.true((await store.readFile(keyName))?.equals(Buffer.from('key')), 'neither removed nor quarantined');
		t.is(await store.readState('export.json'), undefined);
		t.is(await mirror.readRaw(manifestPath), undefined);
		t.is(await mirror.readRaw('.mirror/status.json'), undefined);
	},
);

conformance(
	'the holder renews its lease: it writes on past the first lease end, and the lock says so',
	async (t, mirror) => {
		const store = await mirror.open({ttlMs: 2000, renewEveryMs: 100});
		const lock = await store.lock(noWarnings);
		t.teardown(() => lock.release());
		const first = (await lockRecord(mirror))?.expiresAt;
		await sleep(3000);
		t.notThrows(() => lock.assertHeld());
		await store.publishRootFile(keyName, Buffer.from('key'));
		t.true((await store.readFile(keyName))?.equals(Buffer.from('key')));
		const later = (await lockRecord(mirror))?.expiresAt;
		t.true(Date.parse(later ?? '') > Date.parse(first ?? ''), `${first} then ${later}`);
		await releaseRemoves(t, mirror, lock);
	},
);

conformance(
	'a holder whose lease ran out before it could renew it writes nothing more (ERR_LOCK_LOST)',
	async (t, mirror) => {
		const store = await mirror.open({ttlMs: 1500, renewEveryMs: 60_000});
		const lock = await store.lock(noWarnings);
		t.teardown(() => lock.release());
		await store.publishRootFile(keyName, Buffer.from('key'));
		await sleep(1800);
		t.throws(() => lock.assertHeld(), {code: 'ERR_LOCK_LOST', message: /expired/});
		await t.throwsAsync(store.publishRootFile('GPG-KEY-elasticsearch', Buffer.from('other')), {
			code: 'ERR_LOCK_LOST',
		});
		await t.throwsAsync(store.remove(keyName), {code: 'ERR_LOCK_LOST'});
		t.is(await store.stat('GPG-KEY-elasticsearch'), undefined);
		t.true((await store.readFile(keyName))?.equals(Buffer.from('key')));
	},
);

conformance(
	'a live lock of another host is respected; once its lease expired it is taken over, with a warning',
	async (t, mirror) => {
		const store = await mirror.open();
		await mirror.writeRaw(lockPath, foreignLock(new Date(Date.now() + 60_000)));
		await t.throwsAsync(store.lock(noWarnings), {instanceOf: LockHeldError, message: /cronjob-pod-1/});
		await t.throwsAsync(store.assertUnlocked(), {instanceOf: LockHeldError});
		t.is((await lockRecord(mirror))?.token, 'remote', 'the live lock is left alone');

		await mirror.writeRaw(lockPath, foreignLock(new Date(Date.now() - 1000)));
		t.regex((await store.assertUnlocked()) ?? '', /left by a sync that stopped/);
		t.is((await lockRecord(mirror))?.token, 'remote', 'a reader takes nothing');

		const warnings: string[] = [];
		const lock = await store.lock((message) => warnings.push(message));
		t.teardown(() => lock.release());
		t.is(warnings.length, 1, warnings.join('\n'));
		t.regex(warnings[0] ?? '', /took over the (expired )?sync lock/);
		t.regex(warnings[0] ?? '', /cronjob-pod-1/);
		t.regex(warnings[0] ?? '', /4242/);
		t.like(await lockRecord(mirror), {host: os.hostname(), pid: process.pid});
		t.not((await lockRecord(mirror))?.token, 'remote');
		await releaseRemoves(t, mirror, lock);
	},
);

conformance(
	'quarantine moves files out of the served tree and keeps them apart; discard forgets one',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		const ref = agentRef();
		const bytes = randomBytes(50_000);
		await store.publishArtifact(await staged(store, ref, bytes));
		await store.publishRootFile(keyName, Buffer.from('key'));
		const stamp = '2026-02-03T04-05-06Z';
		const quarantine = store.quarantine(stamp);
		t.true(quarantine.where.includes(stamp), quarantine.where);

		for (const relative of [ref.path, `${ref.path}.sha512`, `${ref.path}.asc`]) {
			await quarantine.move(relative);
			t.is(await store.stat(relative), undefined, relative);
		}

		await t.notThrowsAsync(quarantine.move('downloads/not-there.tar.gz'), 'a file already gone is skipped');
		const listed = [];
		for await (const entry of store.listTree()) {
			listed.push(entry.path);
		}

		t.deepEqual(listed, [keyName]);
		const kept = `.mirror/quarantine/${stamp}/${ref.path}`;
		t.true((await mirror.readRaw(kept))?.equals(bytes), 'kept apart, whole');
		t.true((await mirror.readRaw(`${kept}.sha512`))?.equals(sidecarsOf(ref, bytes).sha512Sidecar));

		await quarantine.discard(ref.path);
		t.is(await mirror.readRaw(kept), undefined);
		t.truthy(await mirror.readRaw(`${kept}.asc`), 'only the discarded file goes');
	},
);

conformance(
	'state: export state and the manifest round-trip, an unreadable manifest is a warning, runs are recorded in the status',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		t.is(await store.readState('export.json'), undefined);
		await store.writeState('export.json', '{"lastExport":"2026-01-01T00:00:00.000Z"}\n');
		t.is(await store.readState('export.json'), '{"lastExport":"2026-01-01T00:00:00.000Z"}\n');

		t.deepEqual(
			await store.readManifest(),
			{manifest: emptyManifest()},
			'no manifest: an empty one, no warning',
		);
		const ref = agentRef();
		const manifest: Manifest = {
			schema: 1,
			packages: {},
			defend: {versions: {}, artifacts: {}},
			images: {repositories: {}, blobs: {}},
			files: {
				[ref.path]: manifestEntry(ref, {
					size: 3,
					sha512: 'ab'.repeat(64),
					publishedAt: new Date('2026-01-02T00:00:00Z'),
					upstreamModified: new Date('2025-12-31T00:00:00Z'),
				}),
			},
			keys: {
				[keyName]: {
					path: keyName,
					fingerprints: ['F00D'],
					size: 4,
					sha512: 'cd'.repeat(64),
					publishedAt: '2026-01-02T00:00:00.000Z',
				},
			},
		};
		await store.writeManifest(manifest);
		t.deepEqual(await store.readManifest(), {manifest});

		await mirror.writeRaw(manifestPath, 'not json');
		const unreadable = await store.readManifest();
		t.deepEqual(unreadable.manifest, emptyManifest());
		t.regex(unreadable.warning ?? '', /ignoring unreadable manifest/);

		const failed = runRecord('failed', 1);
		const succeeded = runRecord('success', 2);
		await store.recordRun(succeeded);
		await store.recordRun(failed);
		const status = parseStatus((await mirror.readRaw('.mirror/status.json'))?.toString('utf8'));
		t.deepEqual(status.lastRun, failed);
		t.deepEqual(status.lastSuccess, succeeded);
		t.deepEqual(status.history, [failed, succeeded]);
	},
);

conformance('remove deletes a file; removing a missing file is not an error', async (t, mirror) => {
	const store = await openLocked(t, mirror);
	await store.publishRootFile(keyName, Buffer.from('key'));
	await store.publishRootFile('GPG-KEY-elasticsearch', Buffer.from('other'));
	await store.remove(keyName);
	t.is(await store.stat(keyName), undefined);
	t.is(await store.readFile(keyName), undefined);
	await t.notThrowsAsync(store.remove(keyName));
	await t.notThrowsAsync(store.remove('downloads/never/was.tar.gz'));
	t.true(
		(await store.readFile('GPG-KEY-elasticsearch'))?.equals(Buffer.from('other')),
		'only that file goes',
	);
});

conformance('listTree gives every file of the served tree and leaves .mirror/ out', async (t, mirror) => {
	const store = await openLocked(t, mirror);
	const refs = [agentRef('linux-x86_64'), agentRef('windows-x86_64')];
	for (const ref of refs) {
		await store.publishArtifact(await staged(store, ref, randomBytes(1000)));
	}

	await store.publishRootFile(keyName, Buffer.from('key'));
	await store.writeManifest(emptyManifest());
	await store.writeState('export.json', '{}');
	await store.recordRun(runRecord('success', 2));
	store.quarantine('2026-01-01T00-00-00Z');

	const listed = [];
	for await (const entry of store.listTree()) {
		listed.push(entry);
	}

	const expected = [keyName, ...refs.flatMap((ref) => [ref.path, `${ref.path}.sha512`, `${ref.path}.asc`])];
	t.deepEqual(listed.map((entry) => entry.path).sort(), expected.sort());
	t.true(listed.every((entry) => entry.kind === 'file'));
	t.truthy(await mirror.readRaw(manifestPath), 'the state is there, only not listed');
});

conformance(
	'inspect reports each wanted artifact: its size, and whether both sidecars are there',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		const [whole, halfway, missing] = [
			agentRef('linux-x86_64'),
			agentRef('linux-arm64'),
			agentRef('darwin-x86_64'),
		];
		await store.publishArtifact(await staged(store, whole, randomBytes(1234)));
		// What a run stopped between two uploads of another tool leaves: the artifact and one sidecar.
		await mirror.writeRaw(halfway.path, randomBytes(567));
		await mirror.writeRaw(`${halfway.path}.sha512`, 'x');

		const found = await store.inspect([whole, halfway, missing]);
		t.deepEqual(found.get(whole.path), {size: 1234, sidecars: true});
		t.deepEqual(found.get(halfway.path), {size: 567, sidecars: false});
		t.deepEqual(found.get(missing.path), {size: undefined, sidecars: false});
		t.is(found.size, 3);
	},
);

conformance(
	'stat, readFile and openRead: sizes and upstream dates, undefined for a missing file, ERR_MISSING to open one',
	async (t, mirror) => {
		const store = await openLocked(t, mirror);
		const ref = agentRef();
		const bytes = randomBytes(3000);
		const modified = new Date('2025-06-07T08:09:10.000Z');
		const before = Date.now();
		await store.publishArtifact(await staged(store, ref, bytes, {modified}));
		await store.publishRootFile(keyName, Buffer.from('key'));

		const artifact = await store.stat(ref.path);
		t.is(artifact?.size, bytes.length);
		t.is(artifact?.modified.getTime(), modified.getTime(), "upstream's date is kept");
		t.is(
			(await store.stat(`${ref.path}.sha512`))?.modified.getTime(),
			modified.getTime(),
			'for the sidecars too',
		);
		const key = await store.stat(keyName);
		t.is(key?.size, 3);
		// Without an upstream date, when the store got it (object stores keep whole seconds).
		t.true(Math.abs((key?.modified.getTime() ?? 0) - before) < 60_000, `${key?.modified.toISOString()}`);
		t.true((await readAll(await store.openRead(ref.path))).equals(bytes));
		t.true((await store.readFile(ref.path))?.equals(bytes));

		for (const relative of ['downloads/nothing-here.tar.gz', 'GPG-KEY-none', `${ref.path}.missing`]) {
			t.is(await store.stat(relative), undefined, relative);
			t.is(await store.readFile(relative), undefined, relative);
			await t.throwsAsync(store.openRead(relative), {code: 'ERR_MISSING'}, relative);
		}
	},
);
