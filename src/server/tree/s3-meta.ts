/**
Headers of objects in the store, and the HEADs of artifacts shared between requests:
one HEAD answers every request that arrives while it is under way, and its answer
stands until the manifest changes. A wave of agents after a new manifest costs the
store one HEAD per artifact, not one per agent.
*/
import type {ObjectInfo, S3Store} from '../../store/s3/client.js';
import {metadataKeys} from '../../store/s3/keys.js';
import type {FileMeta} from '../http/conditional.js';

/** Artifacts whose headers are remembered until the manifest changes. */
const metaEntries = 10_000;

/** Headers from what the store says about an object. */
export function metaOf(info: ObjectInfo): FileMeta {
	const sha512 = info.metadata[metadataKeys.sha512];
	const upstream = Date.parse(info.metadata[metadataKeys.modified] ?? '');
	const lastModified = Number.isNaN(upstream) ? info.lastModified : new Date(upstream);
	// Multipart ETags end in `-N`, which Elastic Defend's tooling strips: use the
	// verified sha512 when sync recorded it, else the store's ETag as plain hex.
	const tag =
		sha512 && /^[0-9a-f]{128}$/.test(sha512) ? sha512.slice(0, 32) : info.etag.replace(/[^0-9a-f]/gi, '');
	return {
		identity: info.etag,
		size: info.size,
		etag: `"${tag}"`,
		lastModified,
		lastModifiedText: lastModified.toUTCString(),
	};
}

/** Shared HEADs of artifacts. */
export type ArtifactHeads = {
	/** What the store says of `relative` now (`fresh`), or as it said since the manifest last changed. */
	readonly get: (relative: string, fresh: boolean) => Promise<FileMeta | undefined>;
	/** Drop what is known of `relative`: the store was found to hold another version. */
	readonly forget: (relative: string) => void;
};

/** HEADs of `store`, kept while `generation()` (the manifest's) stays the same. */
export function createArtifactHeads(store: S3Store, generation: () => number): ArtifactHeads {
	const metas = new Map<string, {generation: number; meta: Promise<FileMeta | undefined>}>();
	return {
		get(relative, fresh) {
			const current = generation();
			const known = metas.get(relative);
			if (!fresh && known?.generation === current) {
				return known.meta;
			}

			const meta = store.head(relative).then((info) => (info ? metaOf(info) : undefined));
			if (metas.size >= metaEntries) {
				metas.clear();
			}

			const entry = {generation: current, meta};
			metas.set(relative, entry);
			meta.then(
				(found) => {
					if (!found && metas.get(relative) === entry) {
						metas.delete(relative);
					}
				},
				() => {
					if (metas.get(relative) === entry) {
						metas.delete(relative);
					}
				},
			);
			return meta;
		},
		forget(relative) {
			metas.delete(relative);
		},
	};
}
