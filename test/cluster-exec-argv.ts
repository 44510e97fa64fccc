/** The V8 heap flags and the budget share serve --workers N gives its workers, and that flags given to node win. */
import test from 'ava';
import {workerExecArgv} from '../src/server/cluster.js';
import {workerMemoryShare} from '../src/server/served-mirror.js';

test('workers get a share of the young generation and a bounded old generation growth', (t) => {
	t.deepEqual(workerExecArgv([], 2), ['--max-semi-space-size=2', '--heap-growing-percent=50']);
	t.deepEqual(workerExecArgv([], 4), ['--max-semi-space-size=1', '--heap-growing-percent=50']);
	// Never below 1 MiB, however many workers.
	t.deepEqual(workerExecArgv([], 64), ['--max-semi-space-size=1', '--heap-growing-percent=50']);
});

test("node's own heap flags are kept and not overridden; other flags pass through", (t) => {
	t.deepEqual(workerExecArgv(['--max-semi-space-size=16', '--enable-source-maps'], 2), [
		'--max-semi-space-size=16',
		'--enable-source-maps',
		'--heap-growing-percent=50',
	]);
	t.deepEqual(workerExecArgv(['--heap-growing-percent=100'], 2), [
		'--heap-growing-percent=100',
		'--max-semi-space-size=2',
	]);
});

test("one process keeps a directory mirror's whole budgets; each of N workers gets 3/(4N) of them", (t) => {
	t.is(workerMemoryShare(1), 1);
	t.is(workerMemoryShare(2), 3 / 8);
	t.is(workerMemoryShare(4), 3 / 16);
});
