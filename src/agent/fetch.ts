/**
One artifact from the upstream: its sidecars, then its bytes into the store's temp
folder (resumed where a broken transfer left off), checked by the trust module, then
published through the writer. A file that does not check out is never published.
*/
import {ChecksumError, NotFoundError, SidecarError} from '../errors.js';
import {parseSha512Sidecar} from '../trust/sidecar.js';
import {checkBytes, readClaims} from '../trust/verify-artifact.js';
import type {RetryEvent} from '../upstream/types.js';
import type {ArtifactRef} from './catalog.js';
import {downloadFailed, joinUrl, type Outcome, published, type RunContext} from './context.js';
import {downloadChecked, stagedDownload} from './staged-download.js';

const sidecarMaxBytes = 64 * 1024;

type Sidecars = {sha512: Buffer; asc: Buffer; expected: string};

/** Fetch both sidecars; undefined when the artifact is not published at all. */
async function fetchSidecars(
	context: RunContext,
	ref: ArtifactRef,
	url: string,
): Promise<Sidecars | undefined> {
	const onRetry = (event: RetryEvent) => {
		context.emit({type: 'retry', path: ref.path, ...event});
	};

	let sha512: Buffer;
	try {
		sha512 = (await context.client.fetch(`${url}.sha512`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (!(error instanceof NotFoundError)) {
			throw error;
		}

		if (!(await context.client.exists(url))) {
			return undefined;
		}

		throw new SidecarError(`${ref.fileName}.sha512 is missing upstream (the artifact itself exists)`);
	}

	// Read now: a sidecar the agent would reject ends the artifact before more is asked.
	const expected = parseSha512Sidecar(sha512.toString('utf8'), ref.fileName);
	let asc: Buffer;
	try {
		asc = (await context.client.fetch(`${url}.asc`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (error instanceof NotFoundError) {
			throw new SidecarError(`${ref.fileName}.asc is missing upstream`);
		}

		throw error;
	}

	return {sha512, asc, expected};
}

/**
Download, verify and publish one artifact. `replacing` when an earlier copy is in the
tree; `knownSha512` (a prerelease already published) skips the download when the
upstream's `.sha512` still names it.
*/
export async function fetchArtifact(
	context: RunContext,
	ref: ArtifactRef,
	replacing: boolean,
	knownSha512?: string,
): Promise<Outcome> {
	const url = joinUrl(context.upstream, ref.path);
	const staged = stagedDownload(context, ref.path);
	const {partPath} = staged;

	try {
		const sidecars = await fetchSidecars(context, ref, url);
		if (!sidecars) {
			context.emit({type: 'not-published', path: ref.path});
			return 'not-published';
		}

		if (knownSha512 === sidecars.expected) {
			context.emit({type: 'present', path: ref.path, reason: 'unchanged upstream'});
			return 'present';
		}

		// Read before the download so that the bytes are hashed once for both checks.
		const claims = await readClaims(
			ref.fileName,
			{sha512: sidecars.sha512.toString('utf8'), asc: sidecars.asc.toString('utf8')},
			context.trusted,
		);

		// The kept prefix may be from another build of this file: only a checksum failure restarts it.
		const {result} = await downloadChecked(
			context,
			url,
			ref.path,
			staged,
			({digests}) => checkBytes(claims, digests, partPath, context.trusted),
			{signature: claims.signature, restartOn: (error) => error instanceof ChecksumError},
		);

		await context.writer.publishArtifact(
			{
				ref,
				partPath,
				sha512: result.sha512,
				sha512Sidecar: sidecars.sha512,
				ascSidecar: sidecars.asc,
				modified: result.lastModified,
				replacing,
			},
			result.size,
		);
		return await published(context, ref.path, staged.metaPath, result);
	} catch (error) {
		return downloadFailed(context, ref.path, error, staged.discard);
	}
}
