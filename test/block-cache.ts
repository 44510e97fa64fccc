/**
The shared blocks of an S3 replica (src/server/tree/block-cache.ts) on their own, with a
fetcher that serves bytes from memory and counts what it was asked for: one fetch per
block however many ask, a budget that pinned blocks hold and nothing exceeds, and
failed fetches that are forgotten. test/s3-blocks.ts drives the same cache through a
server in front of radosgw.
*/
import test from 'ava';
import {type BlockFetcher, createBlockCache} from '../src/server/tree/block-cache.js';

const block = 1000;

/** Objects by key; versions by identity. Each fetch waits for `gate` when one is set. */
function memoryStore() {
	const objects = new Map<string, Buffer>();
	const asked: string[] = [];
	let gate: Promise<void> | undefined;
	let failNext: Error | undefined;
	const fetch: BlockFetcher = async (key, identity, start, end) => {
		asked.push(`${key}@${identity}:${start}-${end}`);
		await gate;
		if (failNext) {
			const error = failNext;
			failNext = undefined;
			throw error;
		}

		const body = objects.get(`${key}@${identity}`);
		if (!body) {
			throw new Error(`no ${key}@${identity}`);
		}

		return Buffer.from(body.subarray(start, end + 1));
	};
	return {
		objects,
		asked,
		fetch,
		hold() {
			let open: () => void = () => undefined;
			gate = new Promise((resolve) => {
				open = resolve;
			});
			return () => {
				gate = undefined;
				open();
			};
		},
		failOnce(error: Error) {
			failNext = error;
		},
	};
}

const bytes = (length: number, seed: number) =>
	Buffer.from(Array.from({length}, (_, i) => (i * 7 + seed) % 256));

/** One object of `length` bytes stored as version v1 of each of `keys`, and a cache of `budgetBlocks` blocks. */
function setup(length: number, budgetBlocks: number, keys: string[] = ['a']) {
	const store = memoryStore();
	const object = bytes(length, length % 251);
	for (const name of keys) {
		store.objects.set(`${name}@v1`, object);
	}

	const cache = createBlockCache({budgetBytes: budgetBlocks * block, blockBytes: block, fetch: store.fetch});
	return {store, object, cache};
}

test('concurrent downloads of one block cause one fetch; the last block is as long as what is left', async (t) => {
	const {store, object, cache} = setup(2500, 10);
	const open = store.hold();
	const waiting = Array.from({length: 50}, () => cache.acquire('a', 'v1', object.length, 1));
	open();
	const pinned = await Promise.all(waiting);
	t.deepEqual(store.asked, ['a@v1:1000-1999']);
	for (const one of pinned) {
		t.true(one?.body.equals(object.subarray(1000, 2000)));
		one?.release();
	}

	const last = await cache.acquire('a', 'v1', object.length, 2);
	t.is(last?.body.length, 500);
	t.true(last?.body.equals(object.subarray(2000)));
	t.deepEqual(cache.stats(), {bytes: 1500, hits: 49, fetches: 2, refused: 0, pinnedBytes: 500});
	last?.release();
	t.is(cache.stats().pinnedBytes, 0, 'nothing pinned once every block is released');
	t.is(await cache.acquire('a', 'v1', object.length, 3), undefined, 'past the end: nothing');
});

test('versions are kept apart: a block of another ETag is fetched, never served from the old one', async (t) => {
	const store = memoryStore();
	store.objects.set('a@v1', bytes(1000, 1));
	store.objects.set('a@v2', bytes(1000, 2));
	const cache = createBlockCache({budgetBytes: 10 * block, blockBytes: block, fetch: store.fetch});
	const first = await cache.acquire('a', 'v1', 1000, 0);
	const second = await cache.acquire('a', 'v2', 1000, 0);
	t.true(first?.body.equals(bytes(1000, 1)));
	t.true(second?.body.equals(bytes(1000, 2)));
	t.is(store.asked.length, 2);
});

test('the budget holds: pinned blocks are never evicted, and when all are pinned the next acquire is refused', async (t) => {
	const {store, object, cache} = setup(10 * block, 3);
	const held = [
		await cache.acquire('a', 'v1', object.length, 0),
		await cache.acquire('a', 'v1', object.length, 1),
		await cache.acquire('a', 'v1', object.length, 2),
	];
	t.is(cache.stats().bytes, 3 * block);
	t.is(await cache.acquire('a', 'v1', object.length, 3), undefined, 'every block pinned: no room');
	t.is(cache.stats().refused, 1);
	cache.prefetch('a', 'v1', object.length, 3);
	t.is(cache.stats().refused, 1, 'a prefetch without room is not a refusal');
	t.is(store.asked.length, 3);

	// One pin goes: that block (the least recently used unpinned one) makes room.
	held[0]?.release();
	held[0]?.release(); // a second release changes nothing
	const fourth = await cache.acquire('a', 'v1', object.length, 3);
	t.true(fourth?.body.equals(object.subarray(3 * block, 4 * block)));
	t.is(cache.stats().bytes, 3 * block);
	const again = await cache.acquire('a', 'v1', object.length, 1);
	t.is(again?.body, held[1]?.body, 'a pinned block stayed cached');
	t.is(store.asked.length, 4);
});

test('an evicted block still being written stays in the budget until its last pin goes', async (t) => {
	const {object, cache} = setup(4 * block, 2, ['a', 'b']);
	const writing = await cache.acquire('a', 'v1', object.length, 0);
	const cached = await cache.acquire('a', 'v1', object.length, 1);
	cached?.release();
	// b's block evicts a:1 (unpinned); a:0 is pinned and stays.
	const other = await cache.acquire('b', 'v1', object.length, 0);
	t.truthy(other);
	t.is(cache.stats().bytes, 2 * block);
	t.is(await cache.acquire('b', 'v1', object.length, 1), undefined);
	writing?.release();
	other?.release();
	t.truthy(await cache.acquire('b', 'v1', object.length, 1), 'room again once pins went');
	t.is(cache.stats().bytes, 2 * block);
});

test('a failed fetch reaches every waiter, leaves the budget, and the next acquire fetches again', async (t) => {
	const {store, object, cache} = setup(block, 2);
	store.failOnce(new Error('store down'));
	const open = store.hold();
	const waiters = [cache.acquire('a', 'v1', block, 0), cache.acquire('a', 'v1', block, 0)];
	open();
	for (const waiter of waiters) {
		await t.throwsAsync(waiter, {message: 'store down'});
	}

	t.is(cache.stats().bytes, 0);
	const later = await cache.acquire('a', 'v1', block, 0);
	t.true(later?.body.equals(object));
	t.is(store.asked.length, 2);
});

test('a prefetched block is cached unpinned and counts as a hit when asked for', async (t) => {
	const {store, object, cache} = setup(2 * block, 2, ['a', 'b']);
	cache.prefetch('a', 'v1', object.length, 1);
	cache.prefetch('a', 'v1', object.length, 1);
	const got = await cache.acquire('a', 'v1', object.length, 1);
	t.true(got?.body.equals(object.subarray(block)));
	t.deepEqual(cache.stats(), {bytes: block, hits: 1, fetches: 1, refused: 0, pinnedBytes: block});
	got?.release();
	// Unpinned now: it makes room for others.
	const b0 = await cache.acquire('b', 'v1', object.length, 0);
	const b1 = await cache.acquire('b', 'v1', object.length, 1);
	t.truthy(b0 && b1);
	t.is(cache.stats().bytes, 2 * block);
	t.is(store.asked.length, 3);
});

test('onDrop gets a block once it is out of the cache, never while a response writes it', async (t) => {
	const store = memoryStore();
	const object = bytes(3 * block, 5);
	store.objects.set('a@v1', object);
	const dropped: Buffer[] = [];
	const cache = createBlockCache({
		budgetBytes: 2 * block,
		blockBytes: block,
		fetch: store.fetch,
		onDrop: (body) => dropped.push(body),
	});
	const writing = await cache.acquire('a', 'v1', object.length, 0);
	(await cache.acquire('a', 'v1', object.length, 1))?.release();
	// Room for block 2 evicts block 1 (unpinned): dropped at once.
	(await cache.acquire('a', 'v1', object.length, 2))?.release();
	t.is(dropped.length, 1);
	t.true(dropped[0]?.equals(object.subarray(block, 2 * block)));
	// Block 0 is pinned: block 2 makes room for block 1 instead.
	(await cache.acquire('a', 'v1', object.length, 1))?.release();
	t.is(dropped.length, 2);
	t.true(writing?.body.equals(object.subarray(0, block)));
	writing?.release();
	t.is(dropped.length, 2, 'released, block 0 stays cached');
	// Now unpinned and least recently used: it goes for block 2, and its bytes are dropped.
	(await cache.acquire('a', 'v1', object.length, 2))?.release();
	t.is(dropped.length, 3);
	t.is(dropped[2], writing?.body);
});
