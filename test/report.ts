/** The progress display's numbers and the reporters' lines, from fixed event sequences and a fake clock. */
import test from 'ava';
import {createProgress} from '../src/cli/progress.js';
import {textReporter} from '../src/cli/report.js';
import type {Summary} from '../src/mirror/events.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {withUpstream} from './helpers/with-upstream.js';

const a = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
const b = 'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-arm64.tar.gz';
const c = 'downloads/beats/elastic-agent/elastic-agent-9.2.0-SNAPSHOT-windows-x86_64.zip';
const MiB = 1024 * 1024;

function clock() {
	let now = 0;
	return {now: () => now, advance: (ms: number) => (now += ms)};
}

test('the overall bar counts bytes, with files not started estimated from those that have', (t) => {
	const time = clock();
	const progress = createProgress(time.now);
	for (const file of [a, b]) {
		progress.apply({type: 'plan', action: 'fetch', path: file, reason: 'new'});
	}

	progress.apply({type: 'download', path: a, total: 100 * MiB, resumedFrom: 0});
	time.advance(1000);
	progress.apply({type: 'progress', path: a, bytes: 50 * MiB, total: undefined});
	const view = progress.overall();
	t.is(view?.bytes, 50 * MiB);
	// b has not started: taken to be as large as a.
	t.is(view?.total, 200 * MiB);
	t.regex(view?.detail ?? '', /^0\/2 files 50\.0 MiB\/~200 MiB 50\.0 MiB\/s ETA 3\.0 s$/);

	// a finishes; b starts and turns out to be 300 MiB.
	time.advance(1000);
	progress.apply({type: 'progress', path: a, bytes: 100 * MiB, total: undefined});
	progress.apply({type: 'published', path: a, size: 100 * MiB, sha512: 'x', resumedFrom: 0});
	progress.apply({type: 'download', path: b, total: 300 * MiB, resumedFrom: 0});
	const later = progress.overall();
	t.is(later?.total, 400 * MiB);
	t.regex(later?.detail ?? '', /^1\/2 files 100 MiB\/400 MiB /);
	t.is(progress.file(a), undefined, 'a finished file has no bar');
});

test('speed after a resume counts only the bytes this run moved, per file and overall', (t) => {
	const time = clock();
	const progress = createProgress(time.now);
	progress.apply({type: 'plan', action: 'fetch', path: a, reason: 'new'});
	// 80 MiB were on disk from an earlier run.
	progress.apply({type: 'download', path: a, total: 100 * MiB, resumedFrom: 80 * MiB});
	time.advance(2000);
	progress.apply({type: 'progress', path: a, bytes: 90 * MiB, total: undefined});
	const file = progress.file(a);
	t.is(file?.name, 'elastic-agent-9.1.3-linux-x86_64.tar.gz');
	t.is(file?.bytes, 90 * MiB);
	t.regex(file?.detail ?? '', /^90\.0 MiB\/100 MiB 5\.0 MiB\/s ETA 2\.0 s \(resumed at 80\.0 MiB\)$/);
	t.regex(progress.overall()?.detail ?? '', / 5\.0 MiB\/s ETA 2\.0 s$/);
});

test('at a steady rate the overall ETA only falls, as files start and finish', (t) => {
	const time = clock();
	const progress = createProgress(time.now);
	const files = [a, b, c];
	for (const file of files) {
		progress.apply({type: 'plan', action: 'fetch', path: file, reason: 'new'});
	}

	const etas: number[] = [];
	const readEta = () => {
		const match = / ETA ([\d.]+) s$/.exec(progress.overall()?.detail ?? '');
		if (match) {
			etas.push(Number(match[1]));
		}
	};

	// One file after the other, 10 MiB each, at 1 MiB/s in 1 MiB steps.
	for (const file of files) {
		progress.apply({type: 'download', path: file, total: 10 * MiB, resumedFrom: 0});
		for (let done = 1; done <= 10; done++) {
			time.advance(1000);
			progress.apply({type: 'progress', path: file, bytes: done * MiB, total: undefined});
			readEta();
		}

		progress.apply({type: 'published', path: file, size: 10 * MiB, sha512: 'x', resumedFrom: 0});
		readEta();
	}

	t.true(etas.length > 20, String(etas.length));
	for (let index = 1; index < etas.length; index++) {
		t.true((etas[index] ?? 0) <= (etas[index - 1] ?? 0), `ETA rose: ${etas.join(', ')}`);
	}
});

test('key files are counted apart from artifacts; failed files leave the totals', (t) => {
	const time = clock();
	const progress = createProgress(time.now);
	progress.apply({type: 'plan', action: 'fetch', path: a, reason: 'new'});
	progress.apply({type: 'plan', action: 'fetch', path: b, reason: 'new'});
	progress.apply({type: 'download', path: a, total: 10 * MiB, resumedFrom: 0});
	progress.apply({type: 'progress', path: a, bytes: 4 * MiB, total: undefined});
	progress.apply({type: 'failed', path: a, reason: 'sha512 mismatch', code: 'ERR_CHECKSUM'});
	progress.apply({type: 'download', path: b, total: 10 * MiB, resumedFrom: 0});
	progress.apply({type: 'progress', path: b, bytes: 10 * MiB, total: undefined});
	progress.apply({type: 'published', path: b, size: 10 * MiB, sha512: 'x', resumedFrom: 0});
	progress.apply({type: 'published', path: 'GPG-KEY-elasticsearch', size: 840, sha512: 'k', resumedFrom: 0});
	progress.apply({type: 'published', path: 'GPG-KEY-elastic-agent', size: 840, sha512: 'k', resumedFrom: 0});
	const view = progress.overall();
	t.is(view?.bytes, view?.total);
	t.regex(view?.detail ?? '', /^2\/2 files, 2 key files 10\.0 MiB\/10\.0 MiB/);
});

test('the text summary counts key files apart from artifacts and does not repeat printed failures', (t) => {
	const lines: string[] = [];
	const reporter = textReporter((line) => lines.push(line));
	reporter.emit({type: 'failed', path: a, reason: 'sha512 mismatch', code: 'ERR_CHECKSUM'});
	const summary: Summary = {
		result: 'failed',
		dryRun: false,
		versions: ['9.1.3'],
		published: 1,
		present: 0,
		notPublished: 0,
		keys: {published: 1, present: 1},
		failed: [
			{path: a, reason: 'sha512 mismatch', code: 'ERR_CHECKSUM'},
			{
				path: '9.13.0',
				reason: 'nothing is published upstream for version 9.13.0',
				code: 'ERR_NO_SUCH_VERSION',
			},
		],
		warnings: [],
		bytes: 2048,
		durationMs: 1500,
		requests: {get: 5, head: 0},
	};
	reporter.emit({type: 'summary', summary});
	t.deepEqual(lines, [
		`error: ${a}: sha512 mismatch`,
		'FAILED: 1 published, 0 already present, 0 not published upstream, 2 failed; 2.0 KiB downloaded in 1.5 s; key files: 1 updated, 1 unchanged',
		'  failed: 9.13.0: nothing is published upstream for version 9.13.0',
	]);
});

test('the text summary and start line of package runs: package counts, alone when no binary was selected', (t) => {
	const lines: string[] = [];
	const reporter = textReporter((line) => lines.push(line));
	const base: Summary = {
		result: 'success',
		dryRun: false,
		versions: [],
		published: 0,
		present: 0,
		notPublished: 0,
		keys: {published: 0, present: 0},
		packages: {published: 3, present: 2, failed: 0},
		failed: [],
		warnings: [],
		bytes: 2048,
		durationMs: 1500,
		requests: {get: 5, head: 0},
	};
	reporter.emit({
		type: 'start',
		dir: '/m',
		upstream: 'https://artifacts.elastic.co',
		versions: [],
		files: 0,
		packages: {registry: 'https://epr.elastic.co', kibanaVersions: ['9.1.0'], versions: 5},
	});
	reporter.emit({type: 'summary', summary: base});
	reporter.emit({
		type: 'summary',
		summary: {...base, versions: ['9.1.3'], published: 1, keys: {published: 0, present: 2}},
	});
	reporter.emit({
		type: 'summary',
		summary: {...base, dryRun: true, packages: {published: 0, present: 2, failed: 0}},
	});
	t.deepEqual(lines, [
		'syncing 5 package versions (Kibana 9.1.0) from https://epr.elastic.co into /m',
		'done: packages: 3 published, 2 present; 2.0 KiB downloaded in 1.5 s',
		'done: 1 published, 0 already present, 0 not published upstream, 0 failed; 2.0 KiB downloaded in 1.5 s; key files: 2 unchanged; packages: 3 published, 2 present',
		'dry run: nothing was downloaded or changed (packages: 2 already published)',
	]);
});

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

test('JSON: the summary counts artifacts and key files apart, and a download event carries what was resumed', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'});
	const first = await runCli(['sync', '--json', ...toArgs(flags)]);
	t.is(first.code, 0, first.stderr);
	const summary = first.lines.at(-1)?.summary as Summary;
	t.is(summary.published, 1);
	t.deepEqual(summary.keys, {published: 2, present: 0});
	const download = first.lines.find((line) => line.event === 'download');
	t.is(download?.path, upstream.refs[0]?.path);
	t.is(download?.resumedFrom, 0);
	t.is(download?.total, 20 * 1024);

	const again = await runCli(['sync', '--json', ...toArgs(flags)]);
	const second = again.lines.at(-1)?.summary as Summary;
	t.is(second.present, 1);
	t.deepEqual(second.keys, {published: 0, present: 2});
});
