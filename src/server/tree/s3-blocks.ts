/**
Artifact bodies written from blocks shared by every download (block-cache.ts): a
thousand agents fetching one artifact cost the store one read of it and the replica
one copy in memory, instead of a thousand open requests with their buffers. Blocks are
read on the object's ETag, so a response never mixes two versions; when the cache has
no room (every block pinned by a slow socket), the download streams from the store.
*/
import type {Context} from 'koa';
import {MirrorError} from '../../errors.js';
import type {S3Store} from '../../store/s3/client.js';
import {pipeTo, pumpBody} from '../http/body.js';
import type {ByteRange, FileMeta} from '../http/conditional.js';
import {whenClosed, written} from '../http/exchange.js';
import {type BlockCache, createBlockCache, type PinnedBlock} from './block-cache.js';
import type {ArtifactHeads} from './s3-meta.js';
import {headedFile, isChanged, openRange} from './s3-object.js';
import type {TreeFile} from './source.js';

/** Large enough that a read costs the store little per byte, small enough to share finely. */
const blockBytes = 1024 * 1024;

/** The shared blocks of one server. */
export type S3Blocks = {
	readonly cache: BlockCache;
	/** The artifact version `meta` describes (from `heads`), its bytes from shared blocks. */
	readonly file: (relative: string, meta: FileMeta) => TreeFile;
};

/** Shared blocks of `store` within `budgetBytes`; a version found replaced is forgotten by `heads`. */
export function createS3Blocks(store: S3Store, heads: ArtifactHeads, budgetBytes: number): S3Blocks {
	const cache = createBlockCache({
		budgetBytes,
		blockBytes,
		fetch: (relative, identity, start, end) => store.getRange(relative, start, end, identity),
	});

	/**
	Write bytes `range` of the object `meta` describes, block by block from `first` on.
	One block at a time is pinned: the next is acquired once the socket has taken the
	last slice of this one (and was prefetched meanwhile).
	*/
	function pumpBlocks(
		ctx: Context,
		relative: string,
		meta: FileMeta,
		range: ByteRange,
		first: PinnedBlock,
	): void {
		let block: PinnedBlock | undefined = first;
		whenClosed(ctx, () => block?.release());
		void pumpBody(ctx, async (count) => {
			try {
				let position = range.start;
				while (position <= range.end) {
					const index = Math.floor(position / blockBytes);
					if (!block) {
						block = await cache.acquire(relative, meta.identity, meta.size, index);
					}

					if (!block) {
						// No room: the rest comes straight from the store, on the same version.
						const object = await openRange(store, relative, meta, {start: position, end: range.end});
						if (object === 'changed') {
							throw new MirrorError('ERR_STORE_CHANGED', `${relative} changed in the store`);
						}

						await pipeTo(ctx, object.body, count);
						return;
					}

					const blockStart = index * blockBytes;
					if ((index + 1) * blockBytes <= range.end) {
						cache.prefetch(relative, meta.identity, meta.size, index + 1);
					}

					const slice = block.body.subarray(
						position - blockStart,
						Math.min(block.body.length, range.end + 1 - blockStart),
					);
					await written(ctx, slice);
					count(slice.length);
					position += slice.length;
					block.release();
					block = undefined;
				}
			} catch (error) {
				// A changed object is looked up afresh by the next request, even before the
				// manifest says so.
				if (isChanged(error)) {
					heads.forget(relative);
				}

				block?.release();
				throw error;
			}
		});
	}

	return {
		cache,
		file: (relative, meta) => ({
			meta,
			async send(ctx, range) {
				let first: PinnedBlock | undefined;
				try {
					first = await cache.acquire(
						relative,
						meta.identity,
						meta.size,
						Math.floor(range.start / blockBytes),
					);
				} catch (error) {
					if (isChanged(error)) {
						return 'changed';
					}

					throw error;
				}

				if (first) {
					pumpBlocks(ctx, relative, meta, range, first);
					return 'sent';
				}

				return headedFile(store, relative, meta).send(ctx, range);
			},
			close: async () => undefined,
		}),
	};
}
