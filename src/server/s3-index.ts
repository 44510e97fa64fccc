/**
The index of a mirror in an object store. Sync writes the manifest after the files
it lists, so the manifest is what every server replica indexes by; each replica
asks for it again at most every `refreshMs` with `If-None-Match`, which costs one
small request that usually answers 304. A newly synced version therefore appears on
every replica within seconds, with no restart and no listing of the bucket.
*/
import type {Logger} from 'pino';
import {emptyManifest, type Manifest, parseManifest} from '../store/manifest.js';
import type {S3Store} from '../store/s3/client.js';
import {s3State} from '../store/s3/keys.js';
import {parseStatus, type Status} from '../store/status.js';
import {buildSnapshot, type MirrorIndex, type Snapshot} from './mirror-index.js';

/** The S3 index, and the generation that changes whenever the manifest does. */
export type S3Index = MirrorIndex & {
	/** Increases each time a new manifest is seen; caches keyed by it drop stale entries. */
	readonly generation: () => number;
	/** Refresh now if the last look is older than the refresh interval. */
	readonly refreshIfDue: () => Promise<void>;
};

/** Index the mirror in `store`, looking for a new manifest at most every `refreshMs`. */
export function createS3Index(store: S3Store, refreshMs: number, logger?: Logger): S3Index {
	let manifestEtag: string | undefined;
	let statusEtag: string | undefined;
	let manifest: Manifest = emptyManifest();
	let warning: string | undefined;
	let status: Status = {};
	let snapshot: Snapshot | undefined;
	let generation = 0;
	let checkedAt = Number.NEGATIVE_INFINITY;
	let refreshing: Promise<void> | undefined;

	const refresh = async () => {
		const [nextManifest, nextStatus] = await Promise.all([
			store.getBytes(s3State.manifest, {ifNoneMatch: manifestEtag}),
			store.getBytes(s3State.status, {ifNoneMatch: statusEtag}),
		]);
		let changed = false;
		if (nextManifest !== 'not-modified') {
			const parsed = nextManifest
				? parseManifest(nextManifest.body.toString('utf8'), `${store.label}/${s3State.manifest}`)
				: {manifest: emptyManifest()};
			manifest = parsed.manifest;
			warning = parsed.warning;
			manifestEtag = nextManifest?.info.etag;
			generation++;
			changed = true;
		}

		if (nextStatus !== 'not-modified') {
			status = parseStatus(nextStatus?.body.toString('utf8'));
			statusEtag = nextStatus?.info.etag;
			changed = true;
		}

		if (changed || !snapshot) {
			snapshot = buildSnapshot(manifest, status, warning);
		}

		checkedAt = Date.now();
	};

	// Concurrent requests share one refresh.
	const refreshOnce = () => {
		refreshing ??= refresh().finally(() => {
			refreshing = undefined;
		});
		return refreshing;
	};

	/** Refresh; past the first view, a failure keeps the last good view and is logged. */
	const refreshKeeping = async () => {
		try {
			await refreshOnce();
		} catch (error) {
			// Keep serving the last good view while the store is unreachable.
			if (!snapshot) {
				throw error;
			}

			logger?.warn({msg: 'cannot refresh the mirror index from the store', err: error});
			checkedAt = Date.now();
		}
	};

	const refreshIfDue = async () => {
		const age = Date.now() - checkedAt;
		if (age < refreshMs && snapshot) {
			return;
		}

		if (snapshot && age < 2 * refreshMs) {
			// Under steady traffic, requests go on with the current view while the store is
			// asked: a slow store would otherwise stall every request in flight once per
			// interval. After a quiet spell the view is older, and the request waits for a
			// fresh one.
			void refreshKeeping();
			return;
		}

		await refreshKeeping();
	};

	return {
		generation: () => generation,
		refreshIfDue,
		async snapshot() {
			await refreshIfDue();
			return snapshot as Snapshot;
		},
		async check() {
			try {
				await refreshOnce();
			} catch (error) {
				throw new Error('the object store cannot be read', {cause: error});
			}
		},
	};
}
