/**
How long the sync lock has been held, for the `mirror_sync_lock_age_seconds` gauge:
a lock held far longer than a sync takes means a stuck or dead sync (alert on it).
Read through the lock's own readers, so the lock format stays theirs.
*/
import {stat} from 'node:fs/promises';
import {readLockHolder} from '../store/dir/lock.js';
import type {S3Store} from '../store/s3/client.js';
import {s3State} from '../store/s3/keys.js';
import {readLease} from '../store/s3/lease.js';

/** Seconds since the lock was taken; 0 when no lock is held. */
export type LockAge = () => Promise<number>;

function since(iso: string | undefined, now: number): number | undefined {
	const time = iso === undefined ? Number.NaN : Date.parse(iso);
	return Number.isNaN(time) ? undefined : Math.max(0, (now - time) / 1000);
}

/** The age of the directory lock at `lockPath` (an unreadable lock file counts from its mtime). */
export function directoryLockAge(lockPath: string): LockAge {
	return async () => {
		const now = Date.now();
		const holder = await readLockHolder(lockPath);
		const age = since(holder?.startedAt, now);
		if (age !== undefined) {
			return age;
		}

		try {
			return Math.max(0, (now - (await stat(lockPath)).mtimeMs) / 1000);
		} catch {
			return 0;
		}
	};
}

/**
The age of the lease in an object store's lock object. A store that does not answer
reads as no lock: one failed read must not turn all of /metrics into a 500.
*/
export function leaseLockAge(store: S3Store): LockAge {
	return async () => {
		const lease = await readLease(store, s3State.lock).catch(() => undefined);
		return since(lease?.startedAt, Date.now()) ?? 0;
	};
}
