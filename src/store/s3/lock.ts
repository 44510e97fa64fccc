/**
The sync lock of a mirror in an object store, as its writer holds it: the lease
(lease.ts) behind a write gate (held.ts), remembered so that a signal releases it.
Release closes the gate first (waiting for the write under way), then gives the
lease back, so nothing is written once the lock is gone.
*/
import {removeAbandoned} from '../abandoned.js';
import {createGate, type Gate, rememberHeld} from '../held.js';
import type {HeldLock} from '../store.js';
import type {S3Store} from './client.js';
import {acquireLease, type Lease, type LeaseOptions} from './lease.js';

/** A lock held on an object store: what the caller gets, and the lease and gate behind it. */
export type S3Lock = {readonly lock: HeldLock; readonly lease: Lease; readonly gate: Gate};

/**
Take the lock object `relative` of `store` (LockHeldError while a live lease holds it);
`warn` hears of an expired lease taken over. Abandoned import staging in the local
`tmp` is removed once the lock is held; a failure there releases the lock at once.
*/
export async function lockS3(
	store: S3Store,
	relative: string,
	tmp: string,
	lease: LeaseOptions,
	warn: (message: string) => void,
): Promise<S3Lock> {
	const acquiring = acquireLease(store, relative, {
		...lease,
		onTakeover(previous) {
			warn(
				`took over the expired sync lock of host ${previous.host}, pid ${previous.pid} (lease ended ${previous.expiresAt})`,
			);
		},
	});
	// A signal that arrives while the lease is being taken still releases it, once taken.
	const forgetAcquiring = rememberHeld({
		release: async () => (await acquiring.catch(() => undefined))?.release(),
	});
	let current: Lease;
	try {
		current = await acquiring;
	} finally {
		forgetAcquiring();
	}

	// No write starts once the lease is lost or expired (the check), nor once release began.
	const gate = createGate(() => current.assertHeld());
	let released: Promise<void> | undefined;
	const lock: HeldLock = {
		assertHeld: () => gate.check(),
		release() {
			released ??= (async () => {
				forget();
				await gate.close(`the run was stopped; the lock ${store.label}/${relative} is released`);
				await current.release();
			})();
			return released;
		},
	};
	// Remembered at once, so that a signal from here on releases the lease.
	const forget = rememberHeld(lock);
	try {
		await removeAbandoned(tmp);
	} catch (error) {
		// The caller never gets this lock: release it, or it stays held and renewed for good.
		await lock.release();
		throw error;
	}

	return {lock, lease: current, gate};
}
