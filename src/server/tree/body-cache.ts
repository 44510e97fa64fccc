/**
Small file bodies kept in memory, least recently used first out, bounded by their
total size. The directory source, the store's sidecars and the JSON answers each
keep one; what makes an entry current (a file's identity, the manifest's generation)
is theirs to check.
*/

/** A cache of entries with a body, bounded by the bodies' total bytes. */
export type BodyCache<T extends {readonly body: Buffer}> = {
	/** The entry for `key`, marked as just used. */
	readonly get: (key: string) => T | undefined;
	/** Keep `entry` for `key`, dropping the least recently used past the limit. */
	readonly set: (key: string, entry: T) => void;
};

/** Create a cache holding at most `maxBytes` of bodies. */
export function createBodyCache<T extends {readonly body: Buffer}>(maxBytes: number): BodyCache<T> {
	// Map order is use order: a hit moves the entry to the end, eviction takes the front.
	const entries = new Map<string, T>();
	let bytes = 0;
	return {
		get(key) {
			const entry = entries.get(key);
			if (entry) {
				entries.delete(key);
				entries.set(key, entry);
			}

			return entry;
		},
		set(key, entry) {
			const previous = entries.get(key);
			if (previous) {
				entries.delete(key);
				bytes -= previous.body.length;
			}

			entries.set(key, entry);
			bytes += entry.body.length;
			for (const [oldKey, old] of entries) {
				if (bytes <= maxBytes) {
					break;
				}

				entries.delete(oldKey);
				bytes -= old.body.length;
			}
		},
	};
}
