/**
Large files of the mirror directory, read once into blocks that every response sending
the same version shares (block-cache.ts), and one descriptor per version however many
responses send it.

An upgrade wave is a thousand agents downloading the same artifact at once. Read one
response at a time, each would pump its own small buffers through the thread pool, and
the core would go to per-chunk overhead: at 1,000 clients a 32 MiB budget leaves each
16 KiB. Here a block is read once and written to every socket that needs it, without a
copy, and a response costs one slice per block.

Blocks are keyed by the identity of the version (device, inode, size, mtime): a file
published by rename is another inode, so a response never mixes two versions, and the
descriptor of the old version stays open until its last response is done. Block
buffers are recycled when the cache lets them go, so RSS does not show every block
ever read.
*/
import {type BlockCache, createBlockCache, type PinnedBlock} from './block-cache.js';
import {closeFile, readAt} from './fs-file.js';

/** One open version of a file, shared by the responses that send it. */
export type FileHandle = {
	readonly fd: number;
	readonly identity: string;
	/** Responses holding it, plus block reads under way. */
	users: number;
};

/** The shared descriptors and blocks of one directory source. */
export type FsBlocks = {
	readonly blockBytes: number;
	/**
	The handle of version `identity`, given a descriptor just opened on it: the one
	already shared (and `fd` is closed) or `fd` itself from now on. Let go with `drop`.
	*/
	readonly hold: (identity: string, fd: number) => Promise<FileHandle>;
	/** Let go of a handle from `hold`; the descriptor closes when nothing else uses it. */
	readonly drop: (handle: FileHandle) => Promise<void>;
	/** Block `index` of `handle`'s version, pinned; undefined when the budget has no room. */
	readonly acquire: (handle: FileHandle, size: number, index: number) => Promise<PinnedBlock | undefined>;
	/** Read a block ahead of need when there is room; never waits, never throws. */
	readonly prefetch: (handle: FileHandle, size: number, index: number) => void;
	readonly cache: BlockCache;
};

/** Blocks of `blockBytes` under one memory budget of `budgetBytes`. */
export function createFsBlocks(options: {budgetBytes: number; blockBytes: number}): FsBlocks {
	const {blockBytes} = options;
	const handles = new Map<string, FileHandle>();
	// Buffers of blocks the cache let go; never more than the budget, since a block is
	// read only when the cache has counted room for it.
	const spare: Buffer[] = [];

	async function drop(handle: FileHandle): Promise<void> {
		handle.users--;
		if (handle.users === 0) {
			if (handles.get(handle.identity) === handle) {
				handles.delete(handle.identity);
			}

			await closeFile(handle.fd);
		}
	}

	/** Read bytes `start`..`end` of the version `identity`, whose handle a caller holds now. */
	async function read(identity: string, start: number, end: number): Promise<Buffer> {
		const handle = handles.get(identity);
		if (!handle) {
			throw new Error(`no open descriptor for ${identity}`);
		}

		handle.users++;
		const length = end - start + 1;
		const whole = spare.pop() ?? Buffer.allocUnsafeSlow(blockBytes);
		try {
			let filled = 0;
			while (filled < length) {
				const bytesRead = await readAt(handle.fd, whole.subarray(filled), length - filled, start + filled);
				if (bytesRead === 0) {
					// Only a file truncated in place gets here; never send a short block.
					throw new Error('file shrank while being sent');
				}

				filled += bytesRead;
			}
		} catch (error) {
			spare.push(whole);
			throw error;
		} finally {
			await drop(handle);
		}

		return whole.subarray(0, length);
	}

	const cache = createBlockCache({
		budgetBytes: options.budgetBytes,
		blockBytes,
		fetch: (identity, _identity, start, end) => read(identity, start, end),
		onDrop(body) {
			// Every block buffer is blockBytes long; a last, shorter block is a view of one.
			spare.push(Buffer.from(body.buffer, body.byteOffset, blockBytes));
		},
	});

	return {
		blockBytes,
		async hold(identity, fd) {
			const shared = handles.get(identity);
			if (shared) {
				shared.users++;
				await closeFile(fd);
				return shared;
			}

			const handle = {fd, identity, users: 1};
			handles.set(identity, handle);
			return handle;
		},
		drop,
		acquire: (handle, size, index) => cache.acquire(handle.identity, handle.identity, size, index),
		prefetch: (handle, size, index) => cache.prefetch(handle.identity, handle.identity, size, index),
		cache,
	};
}
