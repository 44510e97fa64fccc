/**
One Defend artifact from the security host: downloaded into the store's temp folder
(resumed where a broken transfer left off, bounded by its declared size and
--max-file-size), checked against its manifest entry (encoded, then inflated), and
published under its `relative_url`, byte-identical. An artifact that does not check
out is never published.
*/
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {downloadFailed, joinUrl, type Outcome, published, type RunContext} from '../agent/context.js';
import {tempName} from '../store/layout.js';
import type {DownloadTarget, RetryEvent} from '../upstream/types.js';
import type {DefendArtifactRef} from './catalog.js';
import {checkDefendArtifact} from './verify.js';

/** Download, check and publish one artifact a manifest names, from `upstream`. */
export async function fetchDefendArtifact(
	context: RunContext,
	upstream: string,
	ref: DefendArtifactRef,
): Promise<Outcome> {
	const base = path.join(context.store.tmp, tempName(ref.path));
	const partPath = `${base}.part`;
	const metaPath = `${base}.part.json`;
	// Clean-up only: it must not fail the run.
	const discardPart = () =>
		Promise.all(
			[partPath, metaPath].map((file) => rm(file, {force: true, recursive: true}).catch(() => undefined)),
		);

	try {
		let seen = 0;
		const target: DownloadTarget = {
			partPath,
			metaPath,
			onStart: ({total, resumedFrom}) => {
				seen = resumedFrom;
				context.emit({type: 'download', path: ref.path, total, resumedFrom});
			},
			onProgress: (bytes) => {
				context.bytes += bytes - seen;
				seen = bytes;
				context.emit({type: 'progress', path: ref.path, bytes, total: ref.encodedSize});
			},
			onRetry: (event: RetryEvent) => context.emit({type: 'retry', path: ref.path, ...event}),
			beforeWrite: context.assertHeld,
		};
		const url = joinUrl(upstream, ref.path);
		let result = await context.client.download(url, target);
		try {
			await checkDefendArtifact(partPath, ref);
		} catch (error) {
			if (result.resumedFrom === 0) {
				throw error;
			}

			// The kept prefix may be from other bytes than upstream has now: start over once.
			context.emit({
				type: 'warning',
				message: `${ref.path}: resumed download did not verify; downloading it whole`,
			});
			await discardPart();
			result = await context.client.download(url, target);
			await checkDefendArtifact(partPath, ref);
		}

		await context.writer.publishDefendArtifact(
			{relative: ref.path, from: {partPath}, modified: result.lastModified, sha512: result.sha512},
			{
				path: ref.path,
				size: result.size,
				sha512: result.sha512,
				encodedSha256: ref.encodedSha256,
				decodedSha256: ref.decodedSha256,
				decodedSize: ref.decodedSize,
				compression: ref.compression,
				...(ref.encryption === 'none' ? {} : {encryption: ref.encryption}),
			},
		);
		return await published(context, ref.path, metaPath, result);
	} catch (error) {
		return downloadFailed(context, ref.path, error, discardPart);
	}
}
