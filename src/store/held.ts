/**
Locks this process holds, so that SIGTERM or SIGINT can release them before the
process exits: a Kubernetes CronJob's next pod (another host) must not find the lock
of a pod that was merely stopped. Each lock has a gate that every write to the store
passes through: releasing closes the gate, waits for the writes already under way
(each one is a whole step: a file renamed into place, a manifest written) and refuses
new ones, so a run stopped by a signal leaves no step half done and writes nothing
once its lock is gone.
*/
import {MirrorError} from '../errors.js';

/** Whole steps that must not start once their lock is being released. */
export type Gate = {
	/** Run `step`; throws ERR_LOCK_LOST once the gate is closed. */
	run<T>(step: () => Promise<T>): Promise<T>;
	/** Refuse new steps, saying `why`; resolves when the running ones have finished. */
	close(why: string): Promise<void>;
	/** Throw ERR_LOCK_LOST when a step would be refused now: for writes that are not whole steps (a download's chunks). */
	check(): void;
};

/**
An open gate. `check` runs before each step and throws to refuse it (a lease that
ran out before it could be renewed).
*/
export function createGate(check?: () => void): Gate {
	let closed: string | undefined;
	const running = new Set<Promise<unknown>>();
	const refuse = () => {
		if (closed !== undefined) {
			throw new MirrorError('ERR_LOCK_LOST', closed);
		}

		check?.();
	};

	return {
		check: refuse,
		async run(step) {
			refuse();
			const pending = step();
			running.add(pending);
			try {
				return await pending;
			} finally {
				running.delete(pending);
			}
		},
		async close(why) {
			closed ??= why;
			await Promise.allSettled([...running]);
		},
	};
}

const held = new Set<{release(): Promise<void>}>();

/** Remember a held lock until `forget` is called (it was released the normal way). */
export function rememberHeld(lock: {release(): Promise<void>}): () => void {
	held.add(lock);
	return () => {
		held.delete(lock);
	};
}

/**
Release every lock this process holds, for a process about to exit on a signal.
Gives up after `timeoutMs` (a store that does not answer), since the lease of a
lock left behind expires on its own.
*/
export async function releaseHeldLocks(timeoutMs = 10_000): Promise<void> {
	const locks = [...held];
	held.clear();
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([
		Promise.allSettled(locks.map((lock) => lock.release())),
		new Promise((resolve) => {
			timer = setTimeout(resolve, timeoutMs);
		}),
	]);
	clearTimeout(timer);
}
