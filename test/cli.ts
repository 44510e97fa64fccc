import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {defaultLabel, syncOptions} from '../src/config/index.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

test('--help lists the commands; sync --help lists every option with its default', async (t) => {
	const top = await runCli(['--help']);
	t.is(top.code, 0);
	t.regex(top.stdout, /sync \[options\]/);

	const help = await runCli(['sync', '--help']);
	t.is(help.code, 0);
	for (const def of syncOptions) {
		t.true(help.stdout.includes(`--${def.name}`), def.name);
		const defaultText = defaultLabel(def);
		if (defaultText) {
			t.true(help.stdout.replace(/\s+/g, ' ').includes(`default: ${defaultText}`), def.name);
		}
	}

	t.regex(
		help.stdout,
		/Exit codes: 0 all selected .*, 1 some files failed,\s+2 bad usage or config, 3 another sync holds the lock/s,
	);
});

test('bad usage exits 2 with one line on stderr', async (t) => {
	const cwd = await tempDir(t);
	const cases: Array<[string[], RegExp]> = [
		[['sync', '--platfroms', 'x'], /unknown option '--platfroms' \(Did you mean --platforms\?\)/],
		[['sync', '--versions', 'latest', '--platforms', 'linux-amd64'], /did you mean "linux-x86_64"/],
		[['sync', '--versions', 'nine'], /invalid version "nine"/],
		[['sync'], /nothing selected/],
		[['sync', '--versions', 'latest', '--concurrency', '-1'], /concurrency/],
		[['snyc'], /unknown command 'snyc'/],
	];
	for (const [args, pattern] of cases) {
		const result = await runCli(args, {cwd});
		t.is(result.code, 2, args.join(' '));
		t.regex(result.stderr, pattern);
		t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
		t.is(result.stdout, '');
	}
});

test('without --json and without a TTY, output is JSON lines ending in a summary; --no-json gives text', async (t) => {
	const key = await createTestKey();
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'});

	const json = await runCli(['sync', ...toArgs(flags)]);
	t.is(json.code, 0, json.stderr);
	const lines = json.stdout.trim().split('\n');
	t.true(lines.every((line) => line.startsWith('{')));
	t.deepEqual(
		json.lines.map((line) => line.event),
		['start', 'plan', 'download', 'published', 'published', 'published', 'summary'],
	);
	const summary = json.lines.at(-1) as {
		level: string;
		time: string;
		summary: {published: number; durationMs: number};
	};
	t.is(summary.level, 'info');
	t.regex(summary.time, /^\d{4}-\d\d-\d\dT/);
	// One artifact; the two keys apart (issue 14 item 18).
	t.is(summary.summary.published, 1);

	const text = await runCli(['sync', '--no-json', ...toArgs(flags)]);
	t.is(text.code, 0);
	t.regex(
		text.stdout,
		/^done: 0 published, 1 already present, 0 not published upstream, 0 failed; 0 B downloaded in .*; key files: 2 unchanged$/m,
	);
});

test('only a top-level --version prints the version; after a command it is an unknown option', async (t) => {
	const cwd = await tempDir(t);
	const top = await runCli(['--version'], {cwd});
	t.is(top.code, 0);
	t.regex(top.stdout, /^\d+\.\d+\.\d+\n$/);

	// A cron job with this typo must fail, not "succeed" forever.
	const typo = await runCli(['sync', '--version', '9.1.3'], {cwd});
	t.is(typo.code, 2);
	t.is(typo.stdout, '');
	t.is(typo.stderr, "error: unknown option '--version' (Did you mean --versions?)\n");
});

test('help and help <command> print help and exit 0 without an error line', async (t) => {
	for (const args of [['help'], ['help', 'sync']]) {
		const result = await runCli(args);
		t.is(result.code, 0, args.join(' '));
		t.is(result.stderr, '', args.join(' '));
		t.regex(result.stdout, /Usage: artifact-mirror/);
	}

	t.regex((await runCli(['help', 'sync'])).stdout, /--versions <list>/);

	// Help for a command that does not exist is a usage error of one line, not the whole help as an error.
	const unknown = await runCli(['help', 'nosuch']);
	t.is(unknown.code, 2);
	t.is(unknown.stderr, "error: unknown command 'nosuch' (artifact-mirror help lists them)\n");
});

test('an option that needs a value followed by another option says so, in one line', async (t) => {
	const cwd = await tempDir(t);
	const cases: Array<[string[], string]> = [
		[['sync', '--versions', '--dir', 'X'], '--versions'],
		[['sync', '--dir', cwd, '--versions', '--dry-run'], '--versions'],
		[['export', '--out', '--versions', '9.1.3'], '--out'],
		[['prune', '--keep-latest', '--yes'], '--keep-latest'],
		[['sync', '--dir', cwd, '--versions'], '--versions'],
	];
	for (const [args, flag] of cases) {
		const result = await runCli(args, {cwd});
		t.is(result.code, 2, args.join(' '));
		t.is(result.stderr, `error: option ${flag} needs a value\n`, args.join(' '));
	}

	// A value that merely starts with a dash is still a value.
	const negative = await runCli(['sync', '--versions', 'latest', '--concurrency', '-1'], {cwd});
	t.regex(negative.stderr, /invalid --concurrency "-1"/);
});

test('import of a bundle that does not exist: one line naming the file, exit 2', async (t) => {
	const cwd = await tempDir(t);
	const mirror = path.join(cwd, 'mirror');
	for (const args of [['missing.tar'], ['missing.tar.001'], ['nowhere/bundle.tar.001']]) {
		const result = await runCli(['import', '--dir', mirror, ...args], {cwd});
		t.is(result.code, 2, args.join(' '));
		t.is(result.stderr, `error: bundle file ${path.join(cwd, args[0] as string)} does not exist\n`);
		t.is(result.stdout, '');
	}
});

test('prune --dry-run is accepted (and is the default); with --yes it is a usage error', async (t) => {
	const key = await createTestKey();
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.2', '9.1.3'],
		platforms: ['linux-x86_64'],
	});
	await runSync(syncFlags(upstream.url, dir, keyPath, {versions: '9.1.2,9.1.3', platforms: 'linux-x86_64'}));
	const before = (await readdir(dir, {recursive: true})).sort();

	const dry = await runCli(['prune', '--dir', dir, '--keep-latest', '1', '--dry-run']);
	t.is(dry.code, 0, dry.stderr);
	t.regex(
		dry.stdout,
		/^would delete downloads\/beats\/elastic-agent\/elastic-agent-9\.1\.2-linux-x86_64\.tar\.gz /m,
	);
	t.deepEqual((await readdir(dir, {recursive: true})).sort(), before);

	const both = await runCli(['prune', '--dir', dir, '--keep-latest', '1', '--dry-run', '--yes']);
	t.is(both.code, 2);
	t.is(
		both.stderr,
		'error: --dry-run and --yes contradict each other: prune without --yes is already a dry run\n',
	);
	t.deepEqual((await readdir(dir, {recursive: true})).sort(), before);
});

test('export --since last with nothing new: exit 0, "nothing new since", no bundle written', async (t) => {
	const key = await createTestKey();
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	await runSync(syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}));
	const out = await tempDir(t);
	const first = await runCli([
		'export',
		'--dir',
		dir,
		'--out',
		path.join(out, 'full.tar'),
		'--since',
		'last',
	]);
	t.is(first.code, 1, 'no previous export is still an error');
	t.regex(first.stderr, /no previous export/);
	t.is((await runCli(['export', '--dir', dir, '--out', path.join(out, 'full.tar')])).code, 0);
	const exported = JSON.parse(await readFile(path.join(dir, '.mirror', 'export.json'), 'utf8')) as {
		lastExportAt: string;
	};

	const again = await runCli([
		'export',
		'--dir',
		dir,
		'--out',
		path.join(out, 'delta.tar'),
		'--since',
		'last',
	]);
	t.is(again.code, 0, again.stderr);
	t.is(again.stderr, '');
	t.is(again.stdout, `nothing new since ${exported.lastExportAt}: no bundle written\n`);
	t.deepEqual(await readdir(out), ['full.tar']);
});
