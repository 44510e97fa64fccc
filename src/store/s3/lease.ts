/**
One sync per bucket and prefix, across machines: a lock object created with a
conditional PUT (`If-None-Match: *`), which the store grants to exactly one writer.
It holds a lease with an expiry that the holder renews; a holder that died stops
renewing, and once the lease has expired the next sync takes it over with a PUT
conditional on the dead holder's ETag, so that two takers cannot both win.
Expiry is compared with the taker's clock: keep the machines' clocks in sync (NTP),
and the lease (default 2 minutes) well above their skew.
*/
import {randomBytes} from 'node:crypto';
import os from 'node:os';
import {LockHeldError, MirrorError} from '../../errors.js';
import type {LeaseTiming} from '../store.js';
import type {S3Store} from './client.js';

/** What the lock object holds. */
export type LeaseRecord = {
	readonly host: string;
	readonly pid: number;
	readonly token: string;
	readonly startedAt: string;
	/** ISO time after which anyone may take the lock over. */
	readonly expiresAt: string;
};

/** A held lease. */
export type Lease = {
	readonly record: LeaseRecord;
	/** Throws when the lease was lost (not renewed in time, or taken over). */
	readonly assertHeld: () => void;
	/**
	Delete the lock object if it is still ours. It does not wait for writes under way:
	the caller closes its write gate first (the S3 target does), then releases.
	*/
	readonly release: () => Promise<void>;
};

/** Timing of a lease, and who hears of a takeover. */
export type LeaseOptions = LeaseTiming & {
	/** Called when the lease of a dead holder was taken over. */
	readonly onTakeover?: ((previous: LeaseRecord) => void) | undefined;
};

/** Two minutes, renewed every 30 s. */
export const defaultLeaseOptions: LeaseOptions = {ttlMs: 120_000, renewEveryMs: 30_000};

function parseRecord(body: Buffer): LeaseRecord | undefined {
	try {
		const data = JSON.parse(body.toString('utf8')) as Partial<LeaseRecord>;
		return typeof data.token === 'string' &&
			typeof data.expiresAt === 'string' &&
			!Number.isNaN(Date.parse(data.expiresAt))
			? (data as LeaseRecord)
			: undefined;
	} catch {
		return undefined;
	}
}

/** The lock object's holder; throws LockHeldError while its lease runs. */
function assertExpired(
	current: {body: Buffer; info: {lastModified: Date}},
	where: string,
	ttlMs: number,
): LeaseRecord | undefined {
	const holder = parseRecord(current.body);
	// An unreadable lock object is treated as a lease from its write time.
	const expiresAt = holder ? Date.parse(holder.expiresAt) : current.info.lastModified.getTime() + ttlMs;
	if (expiresAt > Date.now()) {
		throw new LockHeldError(
			holder
				? `another sync holds ${where} (host ${holder.host}, pid ${holder.pid}, since ${holder.startedAt}; lease until ${holder.expiresAt})`
				: `another sync holds ${where} (unreadable lock object, written ${current.info.lastModified.toISOString()})`,
		);
	}

	return holder;
}

/**
For commands that only read: throw LockHeldError while a live lease is held on the
lock object at `relative`; take nothing and write nothing. An expired lease left
behind is described in the returned line.
*/
export async function assertNoLease(
	store: S3Store,
	relative: string,
	options: LeaseOptions = defaultLeaseOptions,
): Promise<string | undefined> {
	const current = await store.getBytes(relative);
	if (current === undefined || current === 'not-modified') {
		return undefined;
	}

	const where = `${store.label}/${relative}`;
	assertExpired(current, where, options.ttlMs);
	return `the lock ${where} was left by a sync that stopped (its lease expired); the next sync takes it over`;
}

/** Take the lock object at `relative`, or throw LockHeldError naming its live holder. */
export async function acquireLease(
	store: S3Store,
	relative: string,
	options: LeaseOptions = defaultLeaseOptions,
): Promise<Lease> {
	const token = randomBytes(12).toString('hex');
	const startedAt = new Date().toISOString();
	const recordAt = (now: number): LeaseRecord => ({
		host: os.hostname(),
		pid: process.pid,
		token,
		startedAt,
		expiresAt: new Date(now + options.ttlMs).toISOString(),
	});
	const where = `${store.label}/${relative}`;

	let etag: string | undefined;
	let record = recordAt(Date.now());
	// Twice: the lock may vanish between our failed create and our read (its holder released it).
	for (let attempt = 0; attempt < 2 && etag === undefined; attempt++) {
		record = recordAt(Date.now());
		const created = await store.putBytes(relative, JSON.stringify(record), {
			ifNoneMatch: '*',
			contentType: 'application/json',
		});
		if (created) {
			etag = created.etag;
			break;
		}

		const current = await store.getBytes(relative);
		if (current === undefined || current === 'not-modified') {
			continue;
		}

		const holder = assertExpired(current, where, options.ttlMs);

		record = recordAt(Date.now());
		const taken = await store.putBytes(relative, JSON.stringify(record), {
			ifMatch: current.info.etag,
			contentType: 'application/json',
		});
		if (!taken) {
			throw new LockHeldError(`another sync took over the expired lock ${where} first`);
		}

		etag = taken.etag;
		if (holder) {
			options.onTakeover?.(holder);
		}
	}

	if (etag === undefined) {
		throw new LockHeldError(`cannot take ${where}: it keeps changing`);
	}

	let lost: string | undefined;
	let expiresAt = Date.parse(record.expiresAt);
	let renewing: Promise<void> = Promise.resolve();
	const renew = async () => {
		const next = recordAt(Date.now());
		try {
			const renewed = await store.putBytes(relative, JSON.stringify(next), {
				ifMatch: etag,
				contentType: 'application/json',
			});
			if (renewed) {
				etag = renewed.etag;
				expiresAt = Date.parse(next.expiresAt);
			} else {
				lost = `the sync lock ${where} was taken over by another sync`;
			}
		} catch {
			// A failed renewal is retried at the next tick; the lease holds until it expires.
		}
	};

	const timer = setInterval(() => {
		renewing = renewing.then(renew);
	}, options.renewEveryMs);
	timer.unref();

	return {
		record,
		assertHeld() {
			if (!lost && Date.now() >= expiresAt) {
				lost = `the sync lock ${where} expired before it could be renewed`;
			}

			if (lost) {
				throw new MirrorError('ERR_LOCK_LOST', lost);
			}
		},
		async release() {
			// Nothing more is written under a lease being released (a signal may release it mid-run).
			const wasLost = lost;
			lost ??= `the sync lock ${where} was released`;
			clearInterval(timer);
			await renewing;
			if (wasLost) {
				return;
			}

			// Only our own lease is removed; one taken over meanwhile stays.
			const current = await store.getBytes(relative).catch(() => undefined);
			if (current && current !== 'not-modified' && parseRecord(current.body)?.token === token) {
				await store.remove(relative);
			}
		},
	};
}

/** The lease record in the lock object at `relative`, or undefined when there is none (or it cannot be read). */
export async function readLease(store: S3Store, relative: string): Promise<LeaseRecord | undefined> {
	const current = await store.getBytes(relative);
	return current === undefined || current === 'not-modified' ? undefined : parseRecord(current.body);
}
