/**
The tree in the mirror directory, for the tree handler. Links are never served nor
listed, wherever they point (no-links.ts), and each response reads one version of a
file, opened once (fs-file.ts).

Two things keep it fast and small. Small files (sidecars, keys) are kept in memory,
keyed by the identity a stat of the path gives (device, inode, size, mtime): a file
published by rename is a new inode, so a stale copy is never served. Large bodies are
written from blocks shared by every response sending the same version (fs-blocks.ts),
within one memory budget (32 MiB by default, given by the server so that workers can
divide it): a wave of a thousand downloads of one artifact reads each block once and
costs one slice per block and response. Blocks get half the budget. When every block
is pinned by other sockets (clients spread all over the file), a response reads that
block's bytes through one buffer from a pool of the other half, reused rather than
freed: a thousand clients spread out cost about the budget, in 16 KiB reads.
*/
import path from 'node:path';
import type {Context} from 'koa';
import {type CountSent, pumpBody} from '../http/body.js';
import type {ByteRange} from '../http/conditional.js';
import {written} from '../http/exchange.js';
import type {BlockCacheStats, PinnedBlock} from './block-cache.js';
import {createBodyCache} from './body-cache.js';
import {createBufferPool} from './buffer-pool.js';
import {bufferedFile} from './buffered-file.js';
import {createFsBlocks, type FileHandle} from './fs-blocks.js';
import {
	closeFile,
	identityOf,
	type LoadedFile,
	loadSmall,
	metaOf,
	openFile,
	readAt,
	statFile,
	statPath,
} from './fs-file.js';
import {readListing} from './fs-listing.js';
import {resolveInTree, statInTree} from './no-links.js';
import type {TreeFile, TreeSource} from './source.js';

/** Limits of one directory source; the defaults suit a server with a few hundred MiB to spare. */
export type FsSourceOptions = {
	/** Files up to this size are kept in memory (sidecars are a few hundred bytes). */
	readonly smallFileBytes?: number;
	/** Total size of the small-file cache; the least recently used go first. */
	readonly cacheBytes?: number;
	/** Memory for large bodies in flight: half for shared blocks, half for the fallback pool. */
	readonly streamBudgetBytes?: number;
};

/** The directory source, and the read buffers its responses hold. */
export type FsSource = TreeSource & {
	/** Bytes of read buffers held by responses being sent now (0 when idle), for metrics. */
	readonly buffersInUse: () => number;
	/** What the shared blocks of large files hold and did. */
	readonly blockStats: () => BlockCacheStats;
};

const minChunk = 8 * 1024;
const maxChunk = 1024 * 1024;
/** Large enough that a response costs little per byte, small enough to share finely. */
const blockBytes = 128 * 1024;

/** The source for the mirror directory at `root`. */
export function createFsSource(root: string, limits: FsSourceOptions = {}): FsSource {
	const smallFileBytes = limits.smallFileBytes ?? 64 * 1024;
	const budgetBytes = limits.streamBudgetBytes ?? 32 * 1024 * 1024;
	// Half for shared blocks, half for responses the blocks have no room for: when a
	// thousand clients are spread over the file, the pool grants each its smallest size,
	// so the total stays near the budget.
	const blocks = createFsBlocks({budgetBytes: budgetBytes / 2, blockBytes});
	const pool = createBufferPool({
		budgetBytes: budgetBytes / 2,
		minBytes: minChunk,
		maxBytes: maxChunk,
		perResponse: 1,
	});
	const cache = createBodyCache<LoadedFile>(limits.cacheBytes ?? 32 * 1024 * 1024);
	let streaming = 0;
	const rootPath = path.resolve(root);

	/**
	Write bytes `start`..`end` from `fd` through one pooled buffer: the way when the
	shared blocks have no room (every block pinned by other sockets). One buffer, not
	two: this happens with hundreds of responses in flight, which keep the disk and the
	sockets busy between them, and each gets twice the share.
	*/
	async function pumpPooled(ctx: Context, fd: number, start: number, end: number, count: CountSent) {
		streaming++;
		let buffer: Buffer | undefined;
		try {
			let position = start;
			while (position <= end) {
				// Its size follows the share of the budget now: shrink when more clients
				// arrive, grow when many have left.
				if (!buffer || !pool.fits(buffer, streaming)) {
					if (buffer) {
						pool.release(buffer);
					}

					buffer = pool.acquire(streaming);
				}

				const bytesRead = await readAt(fd, buffer, Math.min(buffer.length, end - position + 1), position);
				if (bytesRead === 0) {
					// Only a file truncated in place gets here; never end a response short silently.
					throw new Error('file shrank while being sent');
				}

				await written(ctx, buffer.subarray(0, bytesRead));
				count(bytesRead);
				position += bytesRead;
			}
		} finally {
			streaming--;
			// Its last write completed, or the exchange is closed and nothing more of it goes
			// out: another response may read into it now.
			if (buffer) {
				pool.release(buffer);
			}
		}
	}

	/**
	Send bytes `range` of the version `handle` holds, block by block from the shared
	blocks (one pinned at a time, the next read ahead), then let go of the handle.
	*/
	function pump(ctx: Context, handle: FileHandle, size: number, {start, end}: ByteRange): void {
		const {blockBytes} = blocks;
		let block: PinnedBlock | undefined;
		void pumpBody(ctx, async (count) => {
			let position = start;
			while (position <= end) {
				const index = Math.floor(position / blockBytes);
				const blockStart = index * blockBytes;
				const last = Math.min(end, blockStart + blockBytes - 1);
				block = await blocks.acquire(handle, size, index);
				if (!block) {
					await pumpPooled(ctx, handle.fd, position, last, count);
					position = last + 1;
					continue;
				}

				if (last < end) {
					blocks.prefetch(handle, size, index + 1);
				}

				// A rejected write means the exchange is closed: finally lets go of the block.
				await written(ctx, block.body.subarray(position - blockStart, last + 1 - blockStart));
				count(last + 1 - position);
				position = last + 1;
				block.release();
				block = undefined;
			}
		}).finally(async () => {
			block?.release();
			await blocks.drop(handle).catch(() => undefined);
		});
	}

	/** A small file read whole and kept, or a larger one that replaced it since the stat. */
	async function openSmall(file: string, key: string): Promise<TreeFile | 'missing' | 'folder'> {
		const loaded = await loadSmall(file, smallFileBytes);
		if (loaded === 'missing') {
			return 'missing';
		}

		if (loaded === 'large') {
			// Replaced by a larger file since the stat: send that one.
			return openLarge(file);
		}

		cache.set(key, loaded);
		return bufferedFile(loaded, loaded.body);
	}

	/** A large file, through its own descriptor until the response is over. */
	async function openLarge(file: string): Promise<TreeFile | 'missing' | 'folder'> {
		const fd = await openFile(file);
		if (fd === undefined) {
			return 'missing';
		}

		let info: Awaited<ReturnType<typeof statFile>>;
		try {
			info = await statFile(fd, {bigint: true});
		} catch (error) {
			await closeFile(fd);
			throw error;
		}

		if (!info.isFile()) {
			await closeFile(fd);
			return info.isDirectory() ? 'folder' : 'missing';
		}

		const meta = metaOf(info);
		const handle = await blocks.hold(meta.identity, fd);
		return {
			meta,
			send(ctx, range) {
				pump(ctx, handle, meta.size, range);
				return 'sent';
			},
			close: () => blocks.drop(handle),
		};
	}

	return {
		async list(request) {
			const folder = resolveInTree(root, request.segments);
			return folder ? readListing(folder) : undefined;
		},
		open({request}) {
			const file = resolveInTree(root, request.segments);
			const info = file ? statPath(file) : undefined;
			if (!file || !info) {
				return 'missing';
			}

			if (info.isDirectory()) {
				return 'folder';
			}

			if (!info.isFile()) {
				return 'missing';
			}

			if (info.size > BigInt(smallFileBytes)) {
				return openLarge(file);
			}

			// Kept by its path in the tree: its identity says whether it is the file there now.
			const entry = cache.get(request.relative);
			// A cached small file is answered at once, without the promises of a read.
			return entry?.identity === identityOf(info)
				? bufferedFile(entry, entry.body)
				: openSmall(file, request.relative);
		},
		cached(request) {
			const info = statInTree(rootPath, request.segments);
			if (!info?.isFile() || info.size > BigInt(smallFileBytes)) {
				return undefined;
			}

			const entry = cache.get(request.relative);
			return entry?.identity === identityOf(info) ? entry : undefined;
		},
		buffersInUse: () => pool.lentBytes() + blocks.cache.stats().pinnedBytes,
		blockStats: blocks.cache.stats,
	};
}
