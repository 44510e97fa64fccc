/**
Blocks of large objects read from the store, shared by every download that needs them.

A fleet that upgrades downloads the same few artifacts thousands of times at once.
Streamed from the store one request per download, each slow agent would hold an open
request to the store, its client state and its socket buffers on the replica. Here an
object is read in fixed-size blocks, each fetched once however many downloads want it
at the same time, and responses write slices of the shared blocks without copying.

Memory is one budget that counts every block in memory: the cached ones, the ones
being fetched, and evicted ones that a slow socket is still writing (pinned). Only
unpinned blocks are evicted, least recently used first; when everything is pinned,
`acquire` says there is no room and the caller streams from the store instead, so the
budget holds however many downloads there are.
*/

/** A block a response may write from until it calls `release` (once; later calls do nothing). */
export type PinnedBlock = {
	readonly body: Buffer;
	readonly release: () => void;
};

/** Where a block's bytes come from: bytes `start`..`end` of version `identity` of `key`. */
export type BlockFetcher = (key: string, identity: string, start: number, end: number) => Promise<Buffer>;

/** What the cache holds and has done, for metrics. */
export type BlockCacheStats = {
	/** Bytes of blocks in memory: cached, being fetched or pinned after eviction. */
	readonly bytes: number;
	/** Acquires answered from memory (or by a fetch already under way). */
	readonly hits: number;
	/** Blocks fetched from the store, prefetches included. */
	readonly fetches: number;
	/** Acquires refused for want of room (the response streamed from the store instead). */
	readonly refused: number;
	/** Bytes of blocks pinned now: written by a response or being fetched (0 when idle). */
	readonly pinnedBytes: number;
};

/** The shared blocks of one server. */
export type BlockCache = {
	readonly blockBytes: number;
	/**
	Block `index` of the object `key` at version `identity` (`size` bytes long), pinned,
	from memory or fetched once for every caller waiting on it. Undefined when the budget
	is full of pinned blocks. Rejects with the fetcher's error (the block is then forgotten).
	*/
	readonly acquire: (
		key: string,
		identity: string,
		size: number,
		index: number,
	) => Promise<PinnedBlock | undefined>;
	/** Fetch a block ahead of need when there is room for it; never waits, never throws. */
	readonly prefetch: (key: string, identity: string, size: number, index: number) => void;
	readonly stats: () => BlockCacheStats;
};

/** Size of the budget and of a block. */
export type BlockCacheOptions = {
	readonly budgetBytes: number;
	readonly blockBytes: number;
	readonly fetch: BlockFetcher;
	/**
	Called with a fetched block's bytes once no pin holds them and the cache has let them
	go, so the caller may reuse the memory (the directory source recycles its blocks).
	*/
	readonly onDrop?: ((body: Buffer) => void) | undefined;
};

type Entry = {
	readonly length: number;
	readonly loaded: Promise<Buffer>;
	pins: number;
	/** The bytes once fetched, to hand to `onDrop` when the entry leaves the budget. */
	body?: Buffer;
	/** Still findable in the cache; an evicted entry leaves the budget when its last pin goes. */
	cached: boolean;
};

/** Create a cache of blocks under one memory budget. */
export function createBlockCache(options: BlockCacheOptions): BlockCache {
	const {budgetBytes, blockBytes, fetch, onDrop} = options;
	// Map order is use order: a hit moves the entry to the end, eviction scans from the front.
	const entries = new Map<string, Entry>();
	let bytes = 0;
	let hits = 0;
	let fetches = 0;
	let refused = 0;
	let pinnedBytes = 0;

	function forget(name: string, entry: Entry): void {
		if (!entry.cached) {
			return;
		}

		entries.delete(name);
		entry.cached = false;
		if (entry.pins === 0) {
			leave(entry);
		}
	}

	/** The entry's bytes are out of the cache and unpinned: out of the budget too. */
	function leave(entry: Entry): void {
		bytes -= entry.length;
		if (entry.body && onDrop) {
			const body = entry.body;
			entry.body = undefined;
			onDrop(body);
		}
	}

	/** Evict unpinned blocks until `length` more bytes fit; false when they cannot. */
	function makeRoom(length: number): boolean {
		if (bytes + length <= budgetBytes) {
			return true;
		}

		for (const [name, entry] of entries) {
			if (entry.pins === 0) {
				forget(name, entry);
				if (bytes + length <= budgetBytes) {
					return true;
				}
			}
		}

		return false;
	}

	function pin(entry: Entry): void {
		entry.pins++;
		if (entry.pins === 1) {
			pinnedBytes += entry.length;
		}
	}

	function unpin(entry: Entry): void {
		entry.pins--;
		if (entry.pins === 0) {
			pinnedBytes -= entry.length;
			if (!entry.cached) {
				leave(entry);
			}
		}
	}

	const nameOf = (key: string, identity: string, index: number) => `${identity}\u0000${index}\u0000${key}`;

	/** The entry for a block, made and fetching when missing and there is room; pinned once. */
	function pinned(
		key: string,
		identity: string,
		size: number,
		index: number,
		ahead = false,
	): Entry | undefined {
		const name = nameOf(key, identity, index);
		const found = entries.get(name);
		if (found) {
			entries.delete(name);
			entries.set(name, found);
			pin(found);
			hits++;
			return found;
		}

		const start = index * blockBytes;
		const length = Math.min(blockBytes, size - start);
		if (length <= 0 || !makeRoom(length)) {
			if (!ahead) {
				refused++;
			}

			return undefined;
		}

		fetches++;
		const entry: Entry = {
			length,
			loaded: fetch(key, identity, start, start + length - 1),
			pins: 0,
			cached: true,
		};
		pin(entry);
		entries.set(name, entry);
		bytes += length;
		entry.loaded.then(
			(body) => {
				// Only an entry still in the budget keeps its bytes for onDrop.
				if (entry.cached || entry.pins > 0) {
					entry.body = body;
				}
			},
			() => {
				// Waiters see the rejection; the next asker fetches again.
				forget(name, entry);
			},
		);
		return entry;
	}

	return {
		blockBytes,
		async acquire(key, identity, size, index) {
			const entry = pinned(key, identity, size, index);
			if (!entry) {
				return undefined;
			}

			let body: Buffer;
			try {
				body = await entry.loaded;
			} catch (error) {
				unpin(entry);
				throw error;
			}

			let held = true;
			return {
				body,
				release() {
					if (held) {
						held = false;
						unpin(entry);
					}
				},
			};
		},
		prefetch(key, identity, size, index) {
			if (entries.has(nameOf(key, identity, index))) {
				return;
			}

			const entry = pinned(key, identity, size, index, true);
			if (entry) {
				// Pinned only while fetching, so the block is not evicted before it lands.
				entry.loaded.then(
					() => unpin(entry),
					() => unpin(entry),
				);
			}
		},
		stats: () => ({bytes, hits, fetches, refused, pinnedBytes}),
	};
}
