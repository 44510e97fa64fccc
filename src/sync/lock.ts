/**
One sync per mirror directory. The lock is a file created with O_EXCL holding the
holder's pid and host; a lock whose process is gone (same host, pid not alive) is
taken over, under a second short-lived guard so that two takers cannot both win.
*/
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {mkdir, open, readFile, rm, stat} from 'node:fs/promises';
import os from 'node:os';
import {dirname} from 'node:path';
import {LockHeldError} from '../errors.js';

/** Who holds a lock. */
export type LockHolder = {
	pid: number;
	host: string;
	startedAt: string;
	token: string;
	/** The kernel's start time of that pid (Linux), so that a reused pid is not mistaken for the holder. */
	pidStart?: string | undefined;
};

/** A held lock. */
export type Lock = {
	readonly path: string;
	readonly holder: LockHolder;
	release(): Promise<void>;
};

/** Locks this process holds: a lock file naming our own pid is otherwise a leftover. */
const heldHere = new Set<string>();

/** A half-written lock file older than this is abandoned. */
const unreadableGraceMs = 10_000;

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStart(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
	} catch {
		return undefined;
	}
}

function isAlive(holder: LockHolder): boolean {
	// Containers restart with the same pid and host name: a lock naming our pid that
	// this process does not hold was left by an earlier incarnation.
	if (holder.pid === process.pid) {
		return false;
	}

	try {
		process.kill(holder.pid, 0);
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}

	const start = processStart(holder.pid);
	return !(holder.pidStart && start && holder.pidStart !== start);
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
	try {
		const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
		return typeof holder.pid === 'number' ? holder : undefined;
	} catch {
		return undefined;
	}
}

async function ageMs(path: string): Promise<number> {
	try {
		return Date.now() - (await stat(path)).mtimeMs;
	} catch {
		return 0;
	}
}

async function create(path: string, holder: LockHolder): Promise<boolean> {
	try {
		const handle = await open(path, 'wx', 0o644);
		try {
			await handle.writeFile(JSON.stringify(holder));
			await handle.sync();
		} finally {
			await handle.close();
		}

		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
			return false;
		}

		throw error;
	}
}

/** Whether a lock file is abandoned: its process is gone, or it was never finished. */
async function isStale(path: string, holder: LockHolder | undefined): Promise<boolean> {
	if (!holder) {
		return (await ageMs(path)) > unreadableGraceMs;
	}

	return holder.host === os.hostname() && !isAlive(holder);
}

function describe(path: string, holder: LockHolder | undefined): string {
	if (!holder) {
		return `another sync is starting on this mirror (lock ${path})`;
	}

	return `another sync (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) holds the lock ${path}; if that process is gone, remove the file`;
}

async function takeOver(path: string, stale: LockHolder | undefined, holder: LockHolder): Promise<boolean> {
	const guard = `${path}.takeover`;
	if (!(await create(guard, holder))) {
		if ((await ageMs(guard)) <= unreadableGraceMs) {
			return false;
		}

		await rm(guard, {force: true});
		if (!(await create(guard, holder))) {
			return false;
		}
	}

	try {
		// Under the guard: if the lock is still the stale one we saw, replace it.
		const current = await readHolder(path);
		if (current?.token !== stale?.token) {
			return create(path, holder);
		}

		await rm(path, {force: true});
		return await create(path, holder);
	} finally {
		await rm(guard, {force: true});
	}
}

/**
Take the lock at `path` or throw LockHeldError. A lock left by a dead process on
this host is taken over.
*/
export async function acquireLock(path: string): Promise<Lock> {
	if (heldHere.has(path)) {
		throw new LockHeldError(`another sync in this process holds the lock ${path}`);
	}

	await mkdir(dirname(path), {recursive: true});
	const holder: LockHolder = {
		pid: process.pid,
		host: os.hostname(),
		startedAt: new Date().toISOString(),
		token: randomBytes(8).toString('hex'),
		pidStart: processStart(process.pid),
	};

	if (!(await create(path, holder))) {
		const existing = await readHolder(path);
		if (!(await isStale(path, existing)) || !(await takeOver(path, existing, holder))) {
			throw new LockHeldError(describe(path, await readHolder(path)));
		}
	}

	heldHere.add(path);
	return {
		path,
		holder,
		async release() {
			heldHere.delete(path);
			const current = await readHolder(path);
			if (current?.token === holder.token) {
				await rm(path, {force: true});
			}
		},
	};
}

/** Who holds the lock at `path` (as written there), or undefined when none is held or it cannot be read. */
export function readLockHolder(path: string): Promise<LockHolder | undefined> {
	return readHolder(path);
}
