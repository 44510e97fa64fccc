/**
`npm test`'s wrapper (scripts/test.ts): one S3 server per run, left alone when it
already runs, and suites that could not run named in the last lines, or failed
under CI=true. Each case runs the wrapper on one test of one S3 file.
*/
import {spawn} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {gatedTest} from './helpers/gate.js';
import {s3Answers} from './helpers/prerequisites.js';
import {interleavedOutput} from './helpers/run.js';
import {ensureS3} from './helpers/s3.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsxLoader = import.meta.resolve('tsx/esm');
// Probed before any test is declared: ava wants them declared synchronously.
const s3Test = gatedTest('the wrapper with a real S3 server', await ensureS3(), {serial: true});
const oneS3Test = ['test/s3-blocks.ts', '--match', 'a budget smaller than a block*'];

function wrapper(env: Record<string, string | undefined>): Promise<{code: number | null; output: string}> {
	// The child gets only what a person's shell would give it, not this run's own state.
	const {MIRROR_TEST_S3: _s3, MIRROR_TEST_BROWSER: _browser, CI: _ci, ...inherited} = process.env;
	const child = spawn(process.execPath, ['--import', tsxLoader, 'scripts/test.ts', ...oneS3Test], {
		cwd: root,
		env: {...inherited, ...env},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	return interleavedOutput(child);
}

test('S3 server unavailable: the S3 tests are skipped and the last lines say so loudly; exit 0', async (t) => {
	const {code, output} = await wrapper({MIRROR_TEST_S3: 'unavailable:switched off for this test'});
	t.is(code, 0, output);
	t.regex(output, /1 test skipped/);
	const tail = output.trim().split('\n').slice(-4).join('\n');
	t.regex(tail, /THE S3 TESTS DID NOT RUN \(test\/s3-blocks\.ts\): switched off for this test/);
	t.regex(tail, /INCOMPLETE/);
});

test('S3 server unavailable under CI=true: the S3 tests fail with the reason, and so does the run', async (t) => {
	const {code, output} = await wrapper({
		MIRROR_TEST_S3: 'unavailable:switched off for this test',
		CI: 'true',
	});
	t.not(code, 0);
	t.regex(output, /the S3 block tests could not run: switched off for this test/);
	t.regex(output, /1 test failed/);
	t.regex(output.trim().split('\n').slice(-3).join('\n'), /CI=true: a run with suites left out is a failure/);
});

s3Test('an S3 server that already runs is used and left running', async (t) => {
	const {code, output} = await wrapper({});
	t.is(code, 0, output);
	t.regex(output, /1 test passed/);
	t.regex(output, /S3 test server: already running at http:\/\/127\.0\.0\.1:7480; left running/);
	t.regex(output, /every S3, browser and container registry test of this run could run/);
	t.true(await s3Answers());
});
