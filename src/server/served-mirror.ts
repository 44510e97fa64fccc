/**
The mirror as the server reads it, built from the store that store/open.ts opened
(the same factory every command uses): its index, its tree, and the gauges that
depend on the backend. The directory reads files by descriptor with pooled buffers;
the object store shares blocks between downloads and can redirect to presigned URLs.
*/
import type Koa from 'koa';
import type {MirrorStore} from '../store/store.js';
import {directoryLockAge, type LockAge, leaseLockAge} from './lock-age.js';
import {createMirrorIndex, type MirrorIndex} from './mirror-index.js';
import {directoryPackageFiles, type PackageFiles} from './registry/package-files.js';
import type {BlockCacheStats} from './tree/block-cache.js';
import {createFsSource} from './tree/fs-source.js';
import {treeHandler} from './tree/handler.js';
import type {S3SourceOptions} from './tree/s3-source.js';
import type {TreeSource} from './tree/source.js';

/** How to serve an object store, and how many processes share the memory budgets. */
export type ServeOptions = S3SourceOptions & {
	/** `serve --workers`: the processes that divide the budgets among them. Default 1. */
	readonly workers?: number | undefined;
};

/**
The part of a directory mirror's budgets (read buffers, small-file cache) each of
`workers` processes gets. One process gets them whole; N workers get 3/(4N) each, so
that a quarter of one process's budgets pays for what every further worker costs on
its own (its heap and young generation). Measured with 2 workers (bench rows 3 and 12,
2 MiB semi-spaces): with 1/N, 1,000 slow clients peaked at 216-227 MiB (target 200);
with 1/(2N) they peaked at 191 MiB, but an upgrade wave of 1,000 clients at full speed
fell to 0.4-0.5x nginx in two runs of three (the shared blocks no longer held the
parts of the file the clients were in); with 3/(4N) the wave ran at 1.33x nginx with a
195 MiB peak.
*/
export function workerMemoryShare(workers: number): number {
	return workers > 1 ? 3 / (4 * workers) : 1;
}

/** A directory mirror's budgets for the whole server: read buffers of large responses, cached small files. */
const dirBudgets = {streamBudgetBytes: 32 * 1024 * 1024, cacheBytes: 32 * 1024 * 1024};

/** The S3 block budget when none is given. */
const defaultBlockCacheBytes = 64 * 1024 * 1024;

/** What the app serves and measures. */
export type ServedMirror = {
	readonly index: MirrorIndex;
	/** The middleware that answers `/downloads/...`. */
	readonly tree: Koa.Middleware;
	/** The store the tree reads, for the registry API's blobs (`/v2/`). */
	readonly source: TreeSource;
	readonly lockAge: LockAge;
	/** Package infos and files inside package zips, for the registry routes. */
	readonly packageFiles: PackageFiles;
	/** Read buffers lent to responses now (directory). */
	readonly buffersInUse?: (() => number) | undefined;
	/** What the shared artifact blocks hold and did (object store). */
	readonly blockStats?: (() => BlockCacheStats) | undefined;
	/** Close the store's connections. */
	readonly close: () => void;
};

/** Build what the server reads from `store`. */
export async function serveStore(store: MirrorStore, options: ServeOptions): Promise<ServedMirror> {
	const {backend} = store;
	const workers = options.workers ?? 1;
	if (backend.kind === 's3') {
		// The S3 paths (and the AWS SDK behind them) are loaded only when serving a bucket.
		const {createS3Source} = await import('./tree/s3-source.js');
		const {s3PackageFiles} = await import('./registry/s3-package-files.js');
		const source = createS3Source(backend.bucket, {
			...options,
			// 1/N, not the directory's 3/(4N): a hot artifact's blocks must fit one worker's
			// share, or each of its downloads streams from the store on its own (about 0.2 MiB
			// each): 1/(2N) took 1,000 slow clients of a 32 MiB artifact from 222 to 372 MiB.
			blockCacheBytes: Math.floor((options.blockCacheBytes ?? defaultBlockCacheBytes) / workers),
		});
		const packageFiles = s3PackageFiles(backend.bucket);
		return {
			...source,
			lockAge: leaseLockAge(backend.bucket),
			packageFiles,
			close: () => {
				packageFiles.close();
				store.close();
			},
		};
	}

	const share = workerMemoryShare(workers);
	const source = createFsSource(backend.layout.root, {
		streamBudgetBytes: Math.floor(dirBudgets.streamBudgetBytes * share),
		cacheBytes: Math.floor(dirBudgets.cacheBytes * share),
	});
	const packageFiles = directoryPackageFiles(backend.layout.root);
	return {
		index: createMirrorIndex(backend.layout),
		tree: treeHandler(source),
		source,
		lockAge: directoryLockAge(backend.layout.lock),
		buffersInUse: source.buffersInUse,
		packageFiles,
		close: () => {
			packageFiles.close();
			store.close();
		},
	};
}
