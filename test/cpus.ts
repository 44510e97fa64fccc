/**
serve's default worker count: the cores this process may run on, capped by a
container's CPU quota (cgroup v2 `cpu.max`, or v1's quota and period).
*/
import {mkdir, writeFile} from 'node:fs/promises';
import {availableParallelism} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {parseCpuMax, quotaCpus, usableCpus} from '../src/config/cpus.js';
import {tempDir} from './helpers/temp.js';

test('a quota is rounded up to whole CPUs, at least one; no quota is no cap', (t) => {
	t.is(parseCpuMax('max 100000\n'), undefined);
	t.is(parseCpuMax('200000 100000\n'), 2);
	t.is(parseCpuMax('150000 100000'), 2);
	t.is(parseCpuMax('10000 100000'), 1);
	t.is(quotaCpus(-1, 100000), undefined);
	t.is(quotaCpus(50000, 100000), 1);
});

test('usable CPUs read cgroup v2, then v1, and never exceed the cores', async (t) => {
	const cores = availableParallelism();
	const v2 = await tempDir(t);
	await writeFile(path.join(v2, 'cpu.max'), '100000 100000\n');
	t.is(usableCpus(v2), 1);
	await writeFile(path.join(v2, 'cpu.max'), `${(cores + 8) * 100000} 100000\n`);
	t.is(usableCpus(v2), cores);

	const v1 = await tempDir(t);
	await mkdir(path.join(v1, 'cpu'));
	await writeFile(path.join(v1, 'cpu', 'cpu.cfs_quota_us'), '100000\n');
	await writeFile(path.join(v1, 'cpu', 'cpu.cfs_period_us'), '100000\n');
	t.is(usableCpus(v1), 1);
	await writeFile(path.join(v1, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
	t.is(usableCpus(v1), cores);

	t.is(usableCpus(await tempDir(t)), cores);
});
