import test from 'ava';
import {createBufferPool} from '../src/server/tree/buffer-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;

test('buffers are an even share of the budget, between the smallest and largest size', (t) => {
	const pool = createBufferPool({budgetBytes: 16 * MiB, minBytes: 8 * KiB, maxBytes: MiB});
	t.is(pool.acquire(1).length, MiB);
	t.is(pool.acquire(16).length, 512 * KiB);
	t.is(pool.acquire(64).length, 128 * KiB);
	// Past budget / (2 * smallest) responses, each still gets the smallest size.
	t.is(pool.acquire(5000).length, 8 * KiB);
});

test('what is lent stays within the budget however responses arrive; past it, only the smallest size is granted', (t) => {
	const budget = 4 * MiB;
	const pool = createBufferPool({budgetBytes: budget, minBytes: 8 * KiB, maxBytes: MiB});
	let lent = 0;
	// Responses arrive one by one and keep their buffers: the first would like 1 MiB
	// each, later ones get what is left.
	for (let streaming = 1; streaming <= 400; streaming++) {
		for (const buffer of [pool.acquire(streaming), pool.acquire(streaming)]) {
			lent += buffer.length;
			if (buffer.length > 8 * KiB) {
				t.true(lent <= budget, `${lent} lent after a ${buffer.length}-byte buffer`);
			}
		}
	}

	t.is(pool.allocatedBytes(), lent);
	t.true(lent > budget, 'the smallest size is granted past the budget');
});

test('released buffers are handed out again instead of new ones, and the free list is trimmed to the budget', (t) => {
	const pool = createBufferPool({budgetBytes: 2 * MiB, minBytes: 8 * KiB, maxBytes: 512 * KiB});
	const first = pool.acquire(2);
	t.is(first.length, 512 * KiB);
	pool.release(first);
	t.is(pool.acquire(2), first);
	pool.release(first);

	// Many small ones now: lent plus free stays within the budget.
	const small = Array.from({length: 100}, () => pool.acquire(100));
	t.true(small.every((buffer) => buffer.length === 8 * KiB));
	t.true(pool.allocatedBytes() <= 2 * MiB);
	for (const buffer of small) {
		pool.release(buffer);
	}

	// The first 64 were cut from the free 512 KiB buffer, the other 36 are new.
	t.is(pool.allocatedBytes(), 100 * 8 * KiB);
});

test('a smaller size is cut from a larger free buffer instead of allocated, so shrinking makes no garbage', (t) => {
	const pool = createBufferPool({budgetBytes: 4 * MiB, minBytes: 8 * KiB, maxBytes: MiB, perResponse: 1});
	const large = pool.acquire(1);
	t.is(large.length, MiB);
	pool.release(large);
	// A wave arrives: each response's share is now 16 KiB.
	const small = Array.from({length: 64}, () => pool.acquire(256));
	t.true(small.every((buffer) => buffer.length === 16 * KiB));
	t.true(
		small.every((buffer) => buffer.buffer === large.buffer),
		'views of the free 1 MiB buffer, not new memory',
	);
	t.is(new Set(small.map((buffer) => buffer.byteOffset)).size, 64, 'no two views overlap');
	t.is(pool.allocatedBytes(), MiB);
	t.is(pool.acquire(256).buffer === large.buffer, false, 'the 65th is new memory');
});

test('a buffer fits while it is no larger than the share and not 4x smaller', (t) => {
	const pool = createBufferPool({budgetBytes: 16 * MiB, minBytes: 8 * KiB, maxBytes: MiB});
	const buffer = pool.acquire(8);
	t.is(buffer.length, MiB);
	t.true(pool.fits(buffer, 8));
	t.false(pool.fits(buffer, 100), 'more clients arrived: shrink');
	const small = pool.acquire(1000);
	t.is(small.length, 8 * KiB);
	t.true(pool.fits(small, 800));
	t.false(pool.fits(small, 10), 'most clients left: grow');
});

test('with one buffer per response, each response gets twice the share', (t) => {
	const pool = createBufferPool({budgetBytes: 16 * MiB, minBytes: 8 * KiB, maxBytes: MiB, perResponse: 1});
	t.is(pool.acquire(1000).length, 16 * KiB);
	t.is(pool.acquire(16).length, MiB);
	t.true(pool.fits(Buffer.alloc(16 * KiB), 1000));
	t.false(pool.fits(Buffer.alloc(32 * KiB), 1000));
});
