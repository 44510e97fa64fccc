/**
One Defend artifact from the security host: downloaded into the store's temp folder
(resumed where a broken transfer left off, bounded by its declared size and
--max-file-size), checked against its manifest entry (encoded, then inflated), and
published under its `relative_url`, byte-identical. An artifact that does not check
out is never published.
*/
import {downloadFailed, joinUrl, type Outcome, published, type RunContext} from '../agent/context.js';
import {downloadChecked, stagedDownload} from '../agent/staged-download.js';
import type {DefendArtifactRef} from './catalog.js';
import {checkDefendArtifact} from './verify.js';

/** Download, check and publish one artifact a manifest names, from `upstream`. */
export async function fetchDefendArtifact(
	context: RunContext,
	upstream: string,
	ref: DefendArtifactRef,
): Promise<Outcome> {
	const staged = stagedDownload(context, ref.path);
	try {
		const {result} = await downloadChecked(
			context,
			joinUrl(upstream, ref.path),
			ref.path,
			staged,
			() => checkDefendArtifact(staged.partPath, ref),
			{total: ref.encodedSize},
		);
		await context.writer.publishDefendArtifact(
			{
				relative: ref.path,
				from: {partPath: staged.partPath},
				modified: result.lastModified,
				sha512: result.sha512,
			},
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
		return await published(context, ref.path, staged.metaPath, result);
	} catch (error) {
		return downloadFailed(context, ref.path, error, staged.discard);
	}
}
