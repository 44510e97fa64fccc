/**
One sync per mirror directory. The lock is a file created with O_EXCL holding the
holder's pid and host, and a lease: the holder rewrites `renewedAt` and `expiresAt`
every third of the lease. A lock is taken over, under a second short-lived guard so
that two takers cannot both win, when its process is gone (same host, pid not alive)
or, from any host, when its lease has expired: a pod that was killed, or whose node
went away, leaves a lock the next pod (another host name) can take. Expiry is
compared with the taker's clock, so hosts sharing a mirror over a network
filesystem need their clocks in sync (NTP) well within the lease.
The holder writes nothing once its own lease end has passed without a successful
renewal, and never renews a lock that is no longer the one it wrote.

Over 300 lines: creating, taking over, renewing and checking the lock all read the
same holder record and staleness rules; apart, they would export those internals.
*/
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {open, readFile, rename, rm, stat} from 'node:fs/promises';
import os from 'node:os';
import {dirname} from 'node:path';
import {LockHeldError, MirrorError} from '../../errors.js';
import {createGate, type Gate, rememberHeld} from '../held.js';
import {makeDir} from '../modes.js';

/** Who holds a lock. */
export type LockHolder = {
	pid: number;
	host: string;
	startedAt: string;
	token: string;
	/** The kernel's start time of that pid (Linux), so that a reused pid is not mistaken for the holder. */
	pidStart?: string | undefined;
	/** When the holder last renewed its lease. */
	renewedAt?: string | undefined;
	/** After this, anyone on any host may take the lock over. */
	expiresAt?: string | undefined;
};

/** A held lock. */
export type Lock = {
	readonly path: string;
	readonly holder: LockHolder;
	/** Writes under this lock pass through it, so that release waits for them and stops new ones. */
	readonly gate: Gate;
	/**
	Taken over from a holder on another host whose lease ran out: that holder may be
	alive (stalled, cut off) and still writing to files it has open.
	*/
	readonly tookOverLiveHolder: boolean;
	/** Throw ERR_LOCK_LOST when this process may no longer write under the lock. */
	assertHeld(): void;
	release(): Promise<void>;
};

/** Lease timing of a directory lock. */
export type LockOptions = {
	/** How long a lock lasts without renewal. */
	readonly ttlMs?: number | undefined;
	/** How often the holder renews it (default: a third of ttlMs). */
	readonly renewEveryMs?: number | undefined;
	/** Hears why a dead holder's lock was taken over. */
	readonly onTakeover?: ((message: string) => void) | undefined;
};

/** The default lease: a dead holder on another host is taken over after two minutes. */
export const defaultLockTtlMs = 120_000;

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
			// Serve reads the lock (its age); set the mode whatever the umask.
			await handle.chmod(0o644);
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

/**
Why a lock file is abandoned, or undefined while it is held: its process is gone,
its lease has expired, or it was never finished. A lock without a lease (written by
an older version) counts from its file's last change.
*/
async function staleness(
	path: string,
	holder: LockHolder | undefined,
	ttlMs: number,
): Promise<string | undefined> {
	if (!holder) {
		return (await ageMs(path)) > unreadableGraceMs ? 'it was never finished' : undefined;
	}

	// On this host the holder itself can be asked; the lease is for holders elsewhere.
	if (holder.host === os.hostname()) {
		return isAlive(holder) ? undefined : 'its process is gone';
	}

	const parsed = Date.parse(holder.expiresAt ?? '');
	const expiresAt = Number.isNaN(parsed) ? Date.now() - (await ageMs(path)) + ttlMs : parsed;
	return expiresAt < Date.now() ? `its lease expired at ${new Date(expiresAt).toISOString()}` : undefined;
}

function describe(path: string, holder: LockHolder | undefined): string {
	if (!holder) {
		return `another sync is starting on this mirror (lock ${path})`;
	}

	// A holder on this host is asked directly (its pid), whatever its lease says.
	const lease =
		holder.expiresAt && holder.host !== os.hostname()
			? `; it is taken over if its lease (until ${holder.expiresAt}) runs out`
			: '';
	return `another sync (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}) holds the lock ${path}${lease}`;
}

/** How a renewal ended: done, refused because another holder has the lock, or refused because our lease had already ended. */
type Renewal = 'renewed' | 'taken' | 'expired';

/**
Rewrite the lease of our lock. The file must still be the one we last wrote (token
and expiry), and our lease must not have ended: once it has, a taker on another host
may be replacing the file, so the lease is given up rather than renewed. Both are
checked again after the new record is written to its temp file, right before the
rename. What remains is the moment between that last check and the rename (a
syscall): if the lease ends just then, or a taker's clock runs ahead of ours, a taker
could replace the file in it and have it overwritten. Renewing every third of the
lease keeps a renewal far from the lease end unless renewals keep failing.
*/
async function renew(path: string, holder: LockHolder, ttlMs: number): Promise<Renewal> {
	const leaseEnd = Date.parse(holder.expiresAt ?? '');
	const refusal = async (): Promise<Renewal | undefined> => {
		const current = await readHolder(path);
		if (current?.token !== holder.token || current.expiresAt !== holder.expiresAt) {
			return 'taken';
		}

		return Date.now() >= leaseEnd ? 'expired' : undefined;
	};

	const before = await refusal();
	if (before) {
		return before;
	}

	const now = Date.now();
	const next: LockHolder = {
		...holder,
		renewedAt: new Date(now).toISOString(),
		expiresAt: new Date(now + ttlMs).toISOString(),
	};
	// A rename, so that a reader sees the old lease or the new one, never half a file.
	const temp = `${path}.${holder.token}.tmp`;
	let renamed = false;
	try {
		const handle = await open(temp, 'w', 0o644);
		try {
			await handle.chmod(0o644);
			await handle.writeFile(JSON.stringify(next));
		} finally {
			await handle.close();
		}

		const after = await refusal();
		if (after) {
			return after;
		}

		await rename(temp, path);
		renamed = true;
	} finally {
		if (!renamed) {
			await rm(temp, {force: true}).catch(() => undefined);
		}
	}

	// Only a renewal that reached the file extends the lease this holder writes under.
	holder.renewedAt = next.renewedAt;
	holder.expiresAt = next.expiresAt;
	return 'renewed';
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
		// Under the guard: if the lock is still the stale one we saw (not renewed since), replace it.
		const current = await readHolder(path);
		if (current?.token !== stale?.token || current?.expiresAt !== stale?.expiresAt) {
			return create(path, holder);
		}

		await rm(path, {force: true});
		return await create(path, holder);
	} finally {
		await rm(guard, {force: true});
	}
}

/**
For commands that only read (verify, prune without --yes, export): throw
LockHeldError while a live holder has the lock at `path`, so that they do not read a
tree a sync is changing; take nothing and write nothing, so that they also work on a
read-only mirror. A dead holder's lock is no obstacle to reading: it is described in
the returned line (the next sync takes it over).
*/
export async function assertUnlocked(path: string, options: LockOptions = {}): Promise<string | undefined> {
	if (heldHere.has(path)) {
		throw new LockHeldError(`another sync in this process holds the lock ${path}`);
	}

	const present = await stat(path).then(
		() => true,
		() => false,
	);
	if (!present) {
		return undefined;
	}

	const holder = await readHolder(path);
	const why = await staleness(path, holder, options.ttlMs ?? defaultLockTtlMs);
	if (!why) {
		throw new LockHeldError(describe(path, holder));
	}

	return `the lock ${path} was left by a sync that stopped (${why}); the next sync takes it over`;
}

/**
Take the lock at `path` or throw LockHeldError. A lock left by a dead process on
this host, or whose lease has expired (any host), is taken over; `onTakeover` hears
of it. The lease is renewed until release.
*/
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
	const acquiring = acquire(path, options);
	// A signal that arrives while the lock file is being made still releases it, once made.
	const forget = rememberHeld({release: async () => (await acquiring.catch(() => undefined))?.release()});
	try {
		return await acquiring;
	} finally {
		forget();
	}
}

async function acquire(path: string, options: LockOptions): Promise<Lock> {
	if (heldHere.has(path)) {
		throw new LockHeldError(`another sync in this process holds the lock ${path}`);
	}

	const ttlMs = options.ttlMs ?? defaultLockTtlMs;
	await makeDir(dirname(path));
	const now = Date.now();
	const holder: LockHolder = {
		pid: process.pid,
		host: os.hostname(),
		startedAt: new Date(now).toISOString(),
		token: randomBytes(8).toString('hex'),
		pidStart: processStart(process.pid),
		renewedAt: new Date(now).toISOString(),
		expiresAt: new Date(now + ttlMs).toISOString(),
	};

	let tookOverLiveHolder = false;
	if (!(await create(path, holder))) {
		const existing = await readHolder(path);
		const why = await staleness(path, existing, ttlMs);
		if (!why || !(await takeOver(path, existing, holder))) {
			throw new LockHeldError(describe(path, await readHolder(path)));
		}

		tookOverLiveHolder = existing !== undefined && existing.host !== os.hostname();
		if (existing) {
			options.onTakeover?.(
				`took over the sync lock of pid ${existing.pid} on ${existing.host} (since ${existing.startedAt}): ${why}`,
			);
		}
	}

	heldHere.add(path);
	const expired = `the sync lock ${path} expired before it could be renewed`;
	// Past its lease end a holder writes nothing, renewed or not: another host may hold the lock by then.
	const gate = createGate(() => {
		if (Date.now() >= Date.parse(holder.expiresAt ?? '')) {
			throw new MirrorError('ERR_LOCK_LOST', expired);
		}
	});
	let renewing: Promise<unknown> = Promise.resolve();
	const timer = setInterval(
		() => {
			renewing = renewing.then(async () => {
				// A failed renewal is tried again at the next tick; it does not extend the lease.
				const outcome = await renew(path, holder, ttlMs).catch(() => 'failed' as const);
				if (outcome === 'taken' || outcome === 'expired') {
					// This run writes nothing more, as with S3.
					clearInterval(timer);
					void gate.close(
						outcome === 'taken' ? `the sync lock ${path} was taken over by another sync` : expired,
					);
				}
			});
		},
		options.renewEveryMs ?? Math.max(1, Math.floor(ttlMs / 3)),
	);
	timer.unref();
	let released: Promise<void> | undefined;
	const lock: Lock = {
		path,
		holder,
		gate,
		tookOverLiveHolder,
		assertHeld: () => gate.check(),
		release() {
			released ??= (async () => {
				forget();
				clearInterval(timer);
				await gate.close(`the run was stopped; the lock ${path} is released`);
				await renewing;
				heldHere.delete(path);
				const current = await readHolder(path);
				if (current?.token === holder.token) {
					await rm(path, {force: true});
				}
			})();
			return released;
		},
	};
	const forget = rememberHeld(lock);
	return lock;
}

/** Who holds the lock at `path` (as written there), or undefined when none is held or it cannot be read. */
export function readLockHolder(path: string): Promise<LockHolder | undefined> {
	return readHolder(path);
}
