import {existsSync} from 'node:fs';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {tempName} from '../src/store/layout.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

test('a local step failing after the download stream opened fails that file only: summary, other files published, lock released', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64', 'windows-x86_64'],
		// Larger than the socket buffers: an abandoned response is still open when it errors.
		size: 8 * 1024 * 1024,
	});
	const [metaBlocked, partBlocked, good] = upstream.refs.map((ref) => ref.path) as [string, string, string];
	const tmp = path.join(dir, '.mirror', 'tmp');
	// A directory where the .part.json goes (written after the response head arrives)...
	await mkdir(path.join(tmp, `${tempName(metaBlocked)}.part.json`, 'x'), {recursive: true});
	// ...and a bad temp entry where the .part goes (opened after the response head arrives).
	await mkdir(path.join(tmp, `${tempName(partBlocked)}.part`, 'x'), {recursive: true});
	await writeFile(
		path.join(tmp, `${tempName(partBlocked)}.part.json`),
		JSON.stringify({url: `${upstream.url}/${partBlocked}`, validator: 'nothing-matches'}),
	);

	const result = await runCli([
		'sync',
		'--json',
		...toArgs(
			syncFlags(upstream.url, dir, keyPath, {
				versions: '9.1.3',
				platforms: 'linux-x86_64,linux-arm64,windows-x86_64',
				retries: '2',
			}),
		),
	]);
	t.is(result.code, 1, result.stderr);
	t.notRegex(result.stderr, /Unhandled|at .*\.js|at .*\.ts/, result.stderr);
	const summary = result.lines.at(-1)?.summary as {
		failed: Array<{path: string; reason: string}>;
		published: number;
	};
	t.truthy(summary, result.stdout);
	t.deepEqual(summary.failed.map((failure) => failure.path).sort(), [metaBlocked, partBlocked].sort());
	for (const failure of summary.failed) {
		t.notRegex(failure.reason, /\n/);
		t.regex(failure.reason, /cannot write the download|EISDIR/);
	}

	t.deepEqual(await readFile(path.join(dir, good)), upstream.files.get(good));
	t.false(existsSync(path.join(dir, '.mirror', 'sync.lock')));
	// Local failures are not the upstream's: no retry for them.
	t.false(result.lines.some((line) => line.event === 'retry'));
});
