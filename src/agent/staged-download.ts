/**
One download of a sync run into the store's temp folder, shared by every collection:
where it is staged, a target that reports progress as run events, and the rule that a
resumed download failing its check is thrown away and downloaded whole, once (the
kept prefix may be from other bytes than upstream has now).
*/
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {tempName} from '../store/layout.js';
import type {SignedDigestSpec} from '../trust/digest.js';
import {warmHashPool} from '../trust/hash-pool.js';
import type {PreparedSignature} from '../trust/signature.js';
import type {DownloadResult, DownloadTarget, RetryEvent} from '../upstream/types.js';
import type {RunContext} from './context.js';

/** A download of one tree path, staged in the temp folder. */
export type StagedDownload = {
	readonly partPath: string;
	readonly metaPath: string;
	/** Remove the partial file and its resume record; never fails. */
	readonly discard: () => Promise<void>;
};

/**
Where the download of `relative` is staged. Called before the sidecars are fetched, it
also starts the hashing worker, which then starts while they are.
*/
export function stagedDownload(context: RunContext, relative: string): StagedDownload {
	warmHashPool();
	const base = path.join(context.store.tmp, tempName(relative));
	const partPath = `${base}.part`;
	const metaPath = `${base}.part.json`;
	return {
		partPath,
		metaPath,
		// Clean-up only: it must not fail the run, and it clears whatever blocks the next one
		// (a folder where the partial file goes).
		discard: async () => {
			await Promise.all(
				[partPath, metaPath].map((file) => rm(file, {force: true, recursive: true}).catch(() => undefined)),
			);
		},
	};
}

/**
Download `url` into `staged` with progress, retry and lock checks reported as events
for `relative`, then `check` it. A resumed download that fails its check (in a way
`restartOn` accepts) is downloaded whole once; a fresh one that fails throws.
*/
export async function downloadChecked<T>(
	context: RunContext,
	url: string,
	relative: string,
	staged: StagedDownload,
	check: (result: DownloadResult) => Promise<T>,
	options: {
		total?: number | undefined;
		/** The exact size the bytes must have: a body running past it is cut off (an image blob's descriptor). */
		maxBytes?: number | undefined;
		signature?: PreparedSignature | undefined;
		/** Further digests from the same pass (an image blob's sha256). */
		digests?: readonly SignedDigestSpec[] | undefined;
		/** Extra request headers (a registry token), asked for again before a second download. */
		headers?: () => Promise<Readonly<Record<string, string>>>;
		/** Which check failures a whole download may cure (default: any). */
		restartOn?: (error: unknown) => boolean;
	} = {},
): Promise<{result: DownloadResult; checked: T}> {
	let seen = 0;
	const target = async (): Promise<DownloadTarget> => ({
		partPath: staged.partPath,
		metaPath: staged.metaPath,
		signature: options.signature,
		digests: options.digests,
		headers: await options.headers?.(),
		maxBytes: options.maxBytes,
		onStart: ({total, resumedFrom}) => {
			seen = resumedFrom;
			context.emit({type: 'download', path: relative, total, resumedFrom});
		},
		onProgress: (bytes) => {
			context.bytes += bytes - seen;
			seen = bytes;
			context.emit({type: 'progress', path: relative, bytes, total: options.total});
		},
		onRetry: (event: RetryEvent) => context.emit({type: 'retry', path: relative, ...event}),
		beforeWrite: context.assertHeld,
	});
	let result = await context.client.download(url, await target());
	try {
		return {result, checked: await check(result)};
	} catch (error) {
		if (result.resumedFrom === 0 || !(options.restartOn?.(error) ?? true)) {
			throw error;
		}

		context.emit({
			type: 'warning',
			message: `${relative}: resumed download did not verify; downloading it whole`,
		});
		await staged.discard();
		result = await context.client.download(url, await target());
		return {result, checked: await check(result)};
	}
}
