import {mkdir, writeFile} from 'node:fs/promises';
import test from 'ava';
import {layout} from '../src/store/layout.js';
import {type RunRecord, type Status, serializeStatus} from '../src/store/status.js';
import {getJson, request} from './helpers/http.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

function run(index: number, overrides: Partial<RunRecord> = {}): RunRecord {
	const finished = Date.UTC(2026, 10, 20, 3, 0, 0) - index * 86_400_000;
	return {
		kind: 'sync',
		startedAt: new Date(finished - 95_000).toISOString(),
		finishedAt: new Date(finished).toISOString(),
		result: index % 3 === 1 ? 'failed' : 'success',
		counts: {
			published: index,
			present: 10,
			notPublished: 0,
			failed: index % 3 === 1 ? 2 : 0,
			bytes: 1024 * index,
		},
		...overrides,
	};
}

/** A mirror directory whose status.json is `status` (the format is the contract sync and import write). */
async function mirrorWithStatus(t: Parameters<typeof tempDir>[0], status: Status): Promise<string> {
	const dir = await tempDir(t);
	const mirror = layout(dir);
	await mkdir(mirror.state, {recursive: true});
	await writeFile(mirror.status, serializeStatus(status));
	return dir;
}

test("the last run's failures and the run history are shown on / and in /api/v1/status", async (t) => {
	const failures = Array.from({length: 50}, (_, index) => ({
		path: `downloads/beats/elastic-agent/elastic-agent-9.1.${index}-linux-x86_64.tar.gz`,
		reason: index === 0 ? 'sha512 mismatch <script>alert(1)</script>' : `upstream answered 503 (${index})`,
		code: index === 0 ? 'ERR_DIGEST' : 'ERR_HTTP',
	}));
	const lastRun = run(0, {
		result: 'failed',
		counts: {published: 1, present: 3, notPublished: 0, failed: 73, bytes: 5},
		failures,
		error: '73 files failed; the last: ENOSPC writing /srv/mirror/.mirror/tmp/x.part',
	});
	const history = [lastRun, ...Array.from({length: 19}, (_, index) => run(index + 1))].map(
		({failures: _f, ...rest}) => rest,
	);
	const dir = await mirrorWithStatus(t, {lastRun, lastSuccess: run(2), history});
	const server = await withServer(t, dir);

	const page = (await request(server.url, '/')).text;
	t.regex(page, /73 failed/);
	// Every recorded failure is listed, with its path, code and reason, escaped.
	for (const failure of failures) {
		t.true(page.includes(failure.path), failure.path);
	}
	t.true(page.includes('sha512 mismatch &lt;script&gt;alert(1)&lt;/script&gt;'));
	t.false(page.includes('<script>alert(1)'));
	t.regex(page, /ERR_DIGEST/);
	// A long list is collapsed, and says that the count is larger than the list.
	t.regex(
		page,
		/<details class="failures"(?! open)[^>]*>\s*<summary>.*: 73 files failed, the first 50 listed<\/summary>/,
	);
	// The history: one row per run, newest first.
	const rows = [...page.matchAll(/<tr class="run run-(\w+)"[^>]*>\s*<td><time datetime="([^"]+)"/g)];
	t.is(rows.length, 20);
	t.deepEqual(
		rows.map((row) => row[2]),
		history.map((entry) => entry.finishedAt),
	);
	t.is(rows[0]?.[1], 'failed');

	const status = await getJson<{
		failures: Array<{path: string; reason: string; code?: string}>;
		history: RunRecord[];
		lastRun: RunRecord;
	}>(server.url, '/api/v1/status');
	t.deepEqual(status.failures, failures);
	t.deepEqual(
		status.history,
		history.map((entry) =>
			entry.error ? {...entry, error: '73 files failed; the last: ENOSPC writing …'} : entry,
		),
	);
	t.is(status.lastRun.counts.failed, 73);
	// Local paths in the run's error stay in the log: the page and the API leave them out.
	t.false(page.includes('/srv/mirror'));
	t.false(JSON.stringify(status).includes('/srv/mirror'));
	t.is(status.lastRun.error, '73 files failed; the last: ENOSPC writing …');
});

test('a short failure list is open; a status without failures or history shows neither', async (t) => {
	const failures = [
		{
			path: 'downloads/fleet-server/fleet-server-9.1.3-linux-x86_64.tar.gz',
			reason: 'signature does not verify',
			code: 'ERR_SIGNATURE',
		},
	];
	const lastRun = run(0, {
		result: 'failed',
		counts: {published: 0, present: 0, notPublished: 0, failed: 1, bytes: 0},
		failures,
	});
	const server = await withServer(t, await mirrorWithStatus(t, {lastRun, history: [lastRun]}));
	const page = (await request(server.url, '/')).text;
	t.regex(page, /<details class="failures" open/);
	t.regex(page, /signature does not verify/);

	// Records written before failures and history were kept: no empty tables, empty lists in the API.
	const old = await withServer(t, await mirrorWithStatus(t, {lastRun: run(3)}));
	const oldPage = (await request(old.url, '/')).text;
	t.false(oldPage.includes('class="failures"'));
	const oldStatus = await getJson<{failures: unknown[]; history: unknown[]}>(old.url, '/api/v1/status');
	t.deepEqual(oldStatus.failures, []);
	t.deepEqual(oldStatus.history, []);
});
