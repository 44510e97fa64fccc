import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {startFakeUpstream} from './helpers/fake-upstream.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, startCli, syncFlags, toArgs} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline) {
			throw new Error('timed out waiting');
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 25);
		});
	}
}

test('kill -9 during downloads leaves nothing partial in the tree; the next run resumes and finishes', async (t) => {
	const key = await createTestKey();
	const size = 1024 * 1024;
	const upstream = await startFakeUpstream({
		key,
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
		size,
	});
	t.teardown(() => upstream.close());
	for (const ref of upstream.refs) {
		upstream.faults.set(ref.path, {bytesPerSecond: 256 * 1024});
	}

	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const args = [
		'sync',
		'--json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64,linux-arm64'}),
		),
	];

	const {child, result} = startCli(args);
	const partsWithBytes = async () => {
		const parts = (await listFiles(path.join(dir, '.mirror/tmp')).catch(() => [])).filter((file) =>
			file.endsWith('.part'),
		);
		const sizes = await Promise.all(
			parts.map(async (file) => (await stat(path.join(dir, '.mirror/tmp', file))).size),
		);
		return sizes.length === 2 && sizes.every((bytes) => bytes > 64 * 1024);
	};

	await waitFor(partsWithBytes);
	child.kill('SIGKILL');
	const killed = await result;
	t.is(killed.signal, 'SIGKILL');

	// Readers of the tree see no artifact at all: not a partial one, not one without sidecars.
	const visible = (await listFiles(dir)).filter((file) => !file.startsWith('.mirror/'));
	t.deepEqual(
		visible.filter((file) => file.startsWith('downloads/')),
		[],
	);
	// The lock of the dead process is still there, and will be taken over.
	t.truthy(await stat(path.join(dir, '.mirror/sync.lock')));

	for (const ref of upstream.refs) {
		upstream.faults.delete(ref.path);
	}

	upstream.requests.length = 0;
	const rerun = await runCli(args);
	t.is(rerun.code, 0, rerun.stderr);
	const resumed = upstream.bodyRequests();
	t.is(resumed.length, 2);
	for (const request of resumed) {
		t.regex(request.range ?? '', /^bytes=\d+-$/);
		t.is(request.status, 206);
	}

	for (const ref of upstream.refs) {
		for (const file of [ref.path, `${ref.path}.sha512`, `${ref.path}.asc`]) {
			t.deepEqual(await readFile(path.join(dir, file)), upstream.files.get(file), file);
		}
	}

	const summary = rerun.lines.at(-1)?.summary as {published: number; bytes: number};
	// Keys apart (issue 14 item 18).
	t.is(summary.published, 2);
	t.true(summary.bytes < 2 * size, `resumed, so fewer than ${2 * size} bytes: ${summary.bytes}`);
	await t.throwsAsync(stat(path.join(dir, '.mirror/sync.lock')));
});
