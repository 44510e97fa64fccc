/**
Sidecars from the store: small, so one GET each, and those of releases (which never
change) kept in memory until the manifest changes. Requests for one that is being
read wait for that read: a cold replica asks the store once per file.
*/
import type {S3Store} from '../../store/s3/client.js';
import type {FileMeta} from '../http/conditional.js';
import {createBodyCache} from './body-cache.js';
import {bufferedFile} from './buffered-file.js';
import {metaOf} from './s3-meta.js';
import type {MaybePromise, TreeFile} from './source.js';

const smallFileBytes = 64 * 1024;
const cacheBytes = 32 * 1024 * 1024;

/** Sidecars of one server. */
export type S3Sidecars = {
	/** The sidecar at `relative`; `mutable` when its version may be rebuilt (never kept). */
	readonly open: (relative: string, mutable: boolean) => MaybePromise<TreeFile | 'missing'>;
};

/** Sidecars of `store`, kept while `generation()` (the manifest's) stays the same. */
export function createS3Sidecars(store: S3Store, generation: () => number): S3Sidecars {
	const cache = createBodyCache<{generation: number; meta: FileMeta; body: Buffer}>(cacheBytes);
	const loads = new Map<string, ReturnType<S3Store['getBytes']>>();
	const load = async (relative: string, cacheable: boolean): Promise<TreeFile | 'missing'> => {
		const current = generation();
		const loadKey = `${current}\u0000${relative}`;
		let loading = cacheable ? loads.get(loadKey) : undefined;
		if (!loading) {
			loading = store.getBytes(relative);
			if (cacheable) {
				const pending = loading;
				loads.set(loadKey, pending);
				void pending.then(
					() => loads.delete(loadKey),
					() => loads.delete(loadKey),
				);
			}
		}

		const found = await loading;
		if (!found || found === 'not-modified') {
			return 'missing';
		}

		const meta = metaOf(found.info);
		if (cacheable && found.body.length <= smallFileBytes) {
			cache.set(relative, {generation: current, meta, body: found.body});
		}

		return bufferedFile(meta, found.body);
	};
	return {
		open(relative, mutable) {
			const cacheable = !mutable;
			const cached = cacheable ? cache.get(relative) : undefined;
			if (cached && cached.generation === generation()) {
				return bufferedFile(cached.meta, cached.body);
			}

			return load(relative, cacheable);
		},
	};
}
