/**
Commands that only read (verify, prune without --yes, export) take no lock and write
nothing; a missing mirror is exit 2 and is not created; the next command that takes
the write lock removes what a killed import left.
*/
import {execFileSync} from 'node:child_process';
import {lstat, mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {isCi} from './helpers/prerequisites.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

async function mirrorOf(t: ExecutionContext) {
	const setup = await withUpstream(t, key, {versions: ['9.1.2', '9.1.3'], platforms: ['linux-x86_64']});
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
			versions: '9.1.2,9.1.3',
			platforms: 'linux-x86_64',
		}),
	);
	t.is(summary.result, 'success');
	return setup;
}

/** Every entry below `dir` (folders too) with its type, size, mode and mtime: any write shows. */
async function snapshot(dir: string): Promise<Map<string, string>> {
	const entries = new Map<string, string>();
	const root = await stat(dir);
	entries.set('.', `dir ${root.mtimeMs} ${root.mode}`);
	for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
		const file = path.join(entry.parentPath, entry.name);
		const info = await lstat(file);
		entries.set(
			path.relative(dir, file),
			`${entry.isDirectory() ? 'dir' : 'file'} ${info.size} ${info.mode} ${info.mtimeMs}`,
		);
	}

	return entries;
}

const readOnlyCommands = (dir: string, keyPath: string, out: string) => [
	['verify', '--dir', dir, '--trusted-key', keyPath],
	['prune', '--dir', dir, '--keep-latest', '1'],
	['export', '--dir', dir, '--out', out],
];

test('verify, prune and export on a missing mirror exit 2 with one line and create nothing', async (t) => {
	const parent = await tempDir(t);
	const missing = path.join(parent, 'no-such-mirror');
	const keyPath = await key.writePublic(parent);
	for (const args of [
		...readOnlyCommands(missing, keyPath, path.join(parent, 'x.tar')),
		['prune', '--dir', missing, '--keep-latest', '1', '--yes'],
		['verify', '--dir', missing, '--trusted-key', keyPath, '--repair', '--upstream', 'http://127.0.0.1:9'],
	]) {
		const result = await runCli(args);
		t.is(result.code, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
		t.is(result.stderr, `error: no mirror at ${missing}: the directory does not exist (check --dir)\n`);
		await t.throwsAsync(stat(missing), undefined, `${args[0]} created the mirror`);
	}

	t.deepEqual(await readdir(parent), ['trusted.asc']);
});

test('verify and prune write nothing, export only its --since state; no lock is taken', async (t) => {
	const mirror = await mirrorOf(t);
	const out = path.join(await tempDir(t), 'bundle.tar');
	const before = await snapshot(mirror.dir);
	const [verify, prune, exported] = readOnlyCommands(mirror.dir, mirror.keyPath, out) as [
		string[],
		string[],
		string[],
	];
	const checked = await runCli(verify);
	t.is(checked.code, 0, checked.stdout + checked.stderr);
	t.regex(checked.stdout, /verified 4 files: 0 problems/);
	const planned = await runCli(prune);
	t.is(planned.code, 0, planned.stderr);
	t.regex(planned.stdout, /would delete/);
	t.deepEqual(await snapshot(mirror.dir), before, 'verify or prune wrote to the mirror');

	const bundle = await runCli(exported);
	t.is(bundle.code, 0, bundle.stderr);
	const after = await snapshot(mirror.dir);
	const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
		(entry) => before.get(entry) !== after.get(entry),
	);
	t.deepEqual(changed.sort(), ['.mirror', '.mirror/export.json']);
});

test('on a read-only mirror verify, prune and export work (export warns it cannot record --since last)', async (t) => {
	const mirror = await mirrorOf(t);
	const readOnly = await tempDir(t, 'ro-mirror-');
	try {
		execFileSync('mount', ['--bind', mirror.dir, readOnly], {stdio: 'ignore'});
	} catch (error) {
		// CI runs as root: there a mount that fails is a failure, not a test left out.
		if (isCi()) {
			t.fail(`cannot bind-mount a read-only copy: ${(error as Error).message}`);
			return;
		}

		t.log('cannot bind-mount here (not root or no mount permission): read-only mount not tested');
		t.pass();
		return;
	}

	t.teardown(() => {
		execFileSync('umount', [readOnly], {stdio: 'ignore'});
	});
	execFileSync('mount', ['-o', 'remount,bind,ro', readOnly], {stdio: 'ignore'});
	await t.throwsAsync(writeFile(path.join(readOnly, 'probe'), 'x'), {code: 'EROFS'});

	const out = path.join(await tempDir(t), 'bundle.tar');
	const [verify, prune, exported] = readOnlyCommands(readOnly, mirror.keyPath, out) as [
		string[],
		string[],
		string[],
	];
	const checked = await runCli(verify);
	t.is(checked.code, 0, checked.stdout + checked.stderr);
	const planned = await runCli(prune);
	t.is(planned.code, 0, planned.stdout + planned.stderr);
	const bundle = await runCli(exported);
	t.is(bundle.code, 0, bundle.stdout + bundle.stderr);
	t.regex(bundle.stdout, /warning: could not record this export for --since last \(EROFS/);
	t.regex(bundle.stdout, /exported 2 artifacts/);
	t.truthy(await stat(out));
});

test('what a killed import left is removed by the next command that takes the write lock, not by a read-only one', async (t) => {
	const mirror = await mirrorOf(t);
	const staging = path.join(mirror.dir, '.mirror/tmp/import-0123456789ab');
	await mkdir(staging, {recursive: true});
	await writeFile(path.join(staging, '0'), Buffer.alloc(64 * 1024));
	const halfWritten = path.join(mirror.dir, '.mirror/.manifest.json.0123456789ab.tmp');
	await writeFile(halfWritten, '{');

	const verify = await runCli(['verify', '--dir', mirror.dir, '--trusted-key', mirror.keyPath]);
	t.is(verify.code, 0, verify.stdout);
	t.truthy(await stat(staging), 'a read-only command removed files');

	const prune = await runCli(['prune', '--dir', mirror.dir, '--keep-latest', '5', '--yes']);
	t.is(prune.code, 0, prune.stderr);
	await t.throwsAsync(stat(staging));
	await t.throwsAsync(stat(halfWritten));
	// Partial downloads are another matter: the next sync resumes them.
});

test('a lock left by a stopped sync does not stop verify, which leaves it alone and says so', async (t) => {
	const mirror = await mirrorOf(t);
	const lockPath = path.join(mirror.dir, '.mirror/sync.lock');
	const left = JSON.stringify({
		pid: 4242,
		host: 'cronjob-pod-1',
		startedAt: '2026-01-01T00:00:00.000Z',
		token: 'gone',
		expiresAt: '2026-01-01T00:02:00.000Z',
	});
	await writeFile(lockPath, left);
	const verify = await runCli(['verify', '--dir', mirror.dir, '--trusted-key', mirror.keyPath]);
	t.is(verify.code, 0, verify.stdout + verify.stderr);
	t.regex(verify.stdout, /warning: the lock .* was left by a sync that stopped \(its lease expired at/);
	t.is(await readFile(lockPath, 'utf8'), left);
});
