/**
How many CPUs this process may use: the cores it may run on, capped by a container's
CPU quota (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`),
which `os.availableParallelism()` does not see. serve's default worker count, so a
pod limited to 2 CPUs on a 32-core node forks 2 workers, not 32.
*/
import {readFileSync} from 'node:fs';
import os from 'node:os';

/** The CPUs a quota of `quota` per `period` microseconds allows, at least 1; undefined for no quota. */
export function quotaCpus(quota: number, period: number): number | undefined {
	return quota > 0 && period > 0 ? Math.max(1, Math.ceil(quota / period)) : undefined;
}

/** The quota in cgroup v2's `cpu.max` text (`max 100000` or `200000 100000`). */
export function parseCpuMax(text: string): number | undefined {
	const [quota, period] = text.trim().split(/\s+/);
	return quota === undefined || quota === 'max' ? undefined : quotaCpus(Number(quota), Number(period));
}

function readText(file: string): string | undefined {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

/** The CPUs this process may use, as described above. */
export function usableCpus(root = '/sys/fs/cgroup'): number {
	const cores = os.availableParallelism();
	const v2 = readText(`${root}/cpu.max`);
	const v1quota =
		readText(`${root}/cpu/cpu.cfs_quota_us`) ?? readText(`${root}/cpu,cpuacct/cpu.cfs_quota_us`);
	const v1period =
		readText(`${root}/cpu/cpu.cfs_period_us`) ?? readText(`${root}/cpu,cpuacct/cpu.cfs_period_us`);
	const quota =
		v2 === undefined
			? v1quota === undefined || v1period === undefined
				? undefined
				: quotaCpus(Number(v1quota), Number(v1period))
			: parseCpuMax(v2);
	return Math.min(cores, quota ?? cores);
}
