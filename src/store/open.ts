/**
Opening the mirror a command names: the one place that turns a StoreLocation into a
store, for every command and the server.
*/
import {stat} from 'node:fs/promises';
import {UsageError} from '../errors.js';
import {directoryStore} from './dir/store.js';
import {layout} from './layout.js';
import type {MirrorStore, StoreOptions} from './store.js';

/**
Open the store `options.location` names; an object store is checked for access first. With
`mustExist` (commands that do not create a mirror), a directory that does not exist
is a UsageError, and nothing is created.
*/
export async function openStore(options: StoreOptions, {mustExist = false} = {}): Promise<MirrorStore> {
	const {location} = options;
	if (location.kind === 's3') {
		// The AWS SDK is loaded only by commands that use an object store.
		const {openS3Mirror} = await import('./s3/store.js');
		return openS3Mirror(location.s3, options.lease);
	}

	const mirror = layout(location.dir);
	if (mustExist) {
		const info = await stat(mirror.root).catch(() => undefined);
		if (!info?.isDirectory()) {
			throw new UsageError(
				`no mirror at ${mirror.root}: ${info ? 'it is not a directory' : 'the directory does not exist'} (check --dir)`,
			);
		}
	}

	return directoryStore(mirror, options.lease);
}

/**
Run `work` on the store without taking its lock, for commands that only read:
LockHeldError while a live sync holds the lock; `warn` hears of a dead holder's
lock left behind. A missing mirror directory is a UsageError. Nothing is created or
written, so a read-only mirror works.
*/
export async function withReadStore<T>(
	options: StoreOptions,
	warn: (message: string) => void,
	work: (target: MirrorStore) => Promise<T>,
): Promise<T> {
	const target = await openStore(options, {mustExist: true});
	try {
		const left = await target.assertUnlocked();
		if (left) {
			warn(left);
		}

		return await work(target);
	} finally {
		target.close();
	}
}

/**
Run `work` with the store open and its sync lock held; `warn` hears of a dead
holder's lock taken over. The lock is released and the store closed however
`work` ends. With `mustExist`, a missing mirror directory is a UsageError.
*/
export async function withLockedStore<T>(
	options: StoreOptions,
	warn: (message: string) => void,
	work: (target: MirrorStore) => Promise<T>,
	{mustExist = false} = {},
): Promise<T> {
	const target = await openStore(options, {mustExist});
	try {
		const lock = await target.lock(warn);
		try {
			return await work(target);
		} finally {
			await lock.release();
		}
	} finally {
		target.close();
	}
}
