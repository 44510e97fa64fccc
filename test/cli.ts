import test from 'ava';
import {syncOptionDefs} from '../src/config.js';
import {createTestKey} from './helpers/keys.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

test('--help lists the commands; sync --help lists every option with its default', async (t) => {
	const top = await runCli(['--help']);
	t.is(top.code, 0);
	t.regex(top.stdout, /sync \[options\]/);

	const help = await runCli(['sync', '--help']);
	t.is(help.code, 0);
	for (const def of syncOptionDefs) {
		t.true(help.stdout.includes(`--${def.name}`), def.name);
		if (def.defaultText) {
			t.true(help.stdout.replace(/\s+/g, ' ').includes(`default: ${def.defaultText}`), def.name);
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
		[['sync'], /no versions selected/],
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
