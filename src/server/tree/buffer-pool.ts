/**
Read buffers for streamed responses, from one memory budget shared by every response
in flight. Buffers come in power-of-two sizes and go back to a free list when a
response is done with them, so a thousand slow downloads reuse the same few tens of
MiB instead of leaving freed buffers to the allocator: malloc keeps freed memory
mapped, and RSS would then show every size a buffer ever had.
*/

/** A budget of buffer memory and the buffers under it. */
export type BufferPool = {
	/**
	A buffer for a response, given how many responses are streaming now: an even share
	of what the budget has left, between the pool's smallest and largest size. The
	smallest size is always granted, so a response never waits for memory; the budget is
	exceeded only when more than budget / (2 * smallest) responses stream at once.
	*/
	readonly acquire: (streaming: number) => Buffer;
	/** Give back a buffer from `acquire` once no write holds it any more. */
	readonly release: (buffer: Buffer) => void;
	/** Whether `buffer` is still the size `acquire` would pick now (else release and acquire again). */
	readonly fits: (buffer: Buffer, streaming: number) => boolean;
	/** Bytes in buffers handed out and in the free lists. */
	readonly allocatedBytes: () => number;
	/** Bytes in buffers handed out and not given back yet (0 when no response streams). */
	readonly lentBytes: () => number;
};

/** Sizes and budget of a pool. */
export type BufferPoolOptions = {
	readonly budgetBytes: number;
	readonly minBytes: number;
	readonly maxBytes: number;
	/** Buffers a response holds at once (2: read into one while the other is written). */
	readonly perResponse?: number;
};

/** Create a pool; each response holds at most `perResponse` of its buffers (two by default). */
export function createBufferPool(options: BufferPoolOptions): BufferPool {
	const {budgetBytes, minBytes, maxBytes, perResponse = 2} = options;
	const free = new Map<number, Buffer[]>();
	let lentBytes = 0;
	let freeBytes = 0;

	/** The largest power-of-two size, from minBytes, not above `limit` (minBytes at least). */
	function sizeUnder(limit: number): number {
		let size = minBytes;
		while (size * 2 <= Math.min(limit, maxBytes)) {
			size *= 2;
		}

		return size;
	}

	function wanted(streaming: number): number {
		// The share is of the whole budget, so the sizes settle evenly as responses come
		// and go, and what is left caps a newcomer at once.
		const share = budgetBytes / (perResponse * Math.max(1, streaming));
		return sizeUnder(Math.min(share, budgetBytes - lentBytes));
	}

	function take(size: number): Buffer | undefined {
		const list = free.get(size) ?? [];
		free.set(size, list);
		if (list.length === 0) {
			split(size, list);
		}

		const buffer = list.pop();
		if (buffer) {
			freeBytes -= size;
		}

		return buffer;
	}

	/**
	Cut the smallest free buffer larger than `size` into views of `size` for `list`. As a
	wave of clients arrives, each response's share shrinks step by step: without this,
	every step allocated new, smaller buffers while the larger ones went to the garbage
	collector, which frees their memory only at its next full collection (a worker
	under 1,000 clients showed twice its budget in ArrayBuffers).
	*/
	function split(size: number, list: Buffer[]): void {
		let larger: number | undefined;
		for (const [other, buffers] of free) {
			if (other > size && buffers.length > 0 && (larger === undefined || other < larger)) {
				larger = other;
			}
		}

		const whole = larger === undefined ? undefined : free.get(larger)?.pop();
		if (!whole) {
			return;
		}

		for (let offset = 0; offset + size <= whole.length; offset += size) {
			list.push(whole.subarray(offset, offset + size));
		}
	}

	/** Drop free buffers until what is lent plus what is free fits the budget. */
	function trim(): void {
		for (const [size, list] of free) {
			while (list.length > 0 && lentBytes + freeBytes > budgetBytes) {
				list.pop();
				freeBytes -= size;
			}
		}
	}

	return {
		acquire(streaming) {
			const size = wanted(streaming);
			const buffer = take(size) ?? Buffer.allocUnsafeSlow(size);
			lentBytes += size;
			trim();
			return buffer;
		},
		release(buffer) {
			lentBytes -= buffer.length;
			let list = free.get(buffer.length);
			if (!list) {
				list = [];
				free.set(buffer.length, list);
			}

			list.push(buffer);
			freeBytes += buffer.length;
			trim();
		},
		fits(buffer, streaming) {
			// Shrink at once when more responses arrive; grow only when the share is 4x
			// larger, so small changes in the number of clients do not churn buffers.
			const share = sizeUnder(budgetBytes / (perResponse * Math.max(1, streaming)));
			return buffer.length <= share && buffer.length * 4 > share;
		},
		allocatedBytes: () => lentBytes + freeBytes,
		lentBytes: () => lentBytes,
	};
}
