/**
One artifact from the upstream: its sidecars (both at once), then its bytes into the
store's temp folder (resumed where a broken transfer left off), checked by the trust
module, then published through the writer. A file that does not check out is never
published. The publishing is a step of its own (Publication), so that a run can hand
the upstream slot to the next download while the verified file is flushed and renamed.
*/
import {ChecksumError, NotFoundError, SidecarError} from '../errors.js';
import {parseSha512Sidecar} from '../trust/sidecar.js';
import {checkBytes, readClaims} from '../trust/verify-artifact.js';
import type {DownloadResult, RetryEvent} from '../upstream/types.js';
import type {ArtifactRef} from './catalog.js';
import {downloadFailed, joinUrl, type Outcome, published, type RunContext} from './context.js';
import {downloadChecked, stagedDownload} from './staged-download.js';

const sidecarMaxBytes = 64 * 1024;

/** The sidecars as fetched; no `.asc` when the `.sha512` shows the artifact unchanged. */
type Sidecars = {sha512: Buffer; asc: Buffer | undefined; expected: string};

type OnRetry = (event: RetryEvent) => void;

/** The `.sha512` of an artifact; undefined when the artifact is not published at all. */
async function fetchSha512(context: RunContext, ref: ArtifactRef, url: string, onRetry: OnRetry) {
	try {
		return (await context.client.fetch(`${url}.sha512`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (!(error instanceof NotFoundError)) {
			throw error;
		}

		if (!(await context.client.exists(url))) {
			return undefined;
		}

		throw new SidecarError(`${ref.fileName}.sha512 is missing upstream (the artifact itself exists)`);
	}
}

async function fetchAsc(context: RunContext, ref: ArtifactRef, url: string, onRetry: OnRetry) {
	try {
		return (await context.client.fetch(`${url}.asc`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (error instanceof NotFoundError) {
			throw new SidecarError(`${ref.fileName}.asc is missing upstream`);
		}

		throw error;
	}
}

/**
Fetch both sidecars; undefined when the artifact is not published at all. A new
artifact asks for both at once (one round trip, not two); a refresh asks for the
`.asc` only when the `.sha512` names other bytes than `knownSha512`, so that an
unchanged prerelease costs one request. Either way the `.sha512` decides first: an
artifact that is not published, or whose `.sha512` is missing or unreadable, fails
for that reason whatever became of its `.asc`.
*/
async function fetchSidecars(
	context: RunContext,
	ref: ArtifactRef,
	url: string,
	knownSha512: string | undefined,
): Promise<Sidecars | undefined> {
	const onRetry: OnRetry = (event) => {
		context.emit({type: 'retry', path: ref.path, ...event});
	};

	const ascAtOnce = knownSha512 === undefined ? fetchAsc(context, ref, url, onRetry) : undefined;
	// Its failure is reported below, or not at all when the `.sha512` fails first.
	ascAtOnce?.catch(() => undefined);
	const sha512 = await fetchSha512(context, ref, url, onRetry);
	if (!sha512) {
		return undefined;
	}

	const expected = parseSha512Sidecar(sha512.toString('utf8'), ref.fileName);
	if (expected === knownSha512) {
		return {sha512, asc: undefined, expected};
	}

	const asc = await (ascAtOnce ?? fetchAsc(context, ref, url, onRetry));
	return {sha512, asc, expected};
}

/**
What is left of an artifact once its bytes are verified: publishing them, which asks
the upstream nothing, so a run may start the next download meanwhile.
*/
export type Publication = {readonly publish: () => Promise<Outcome>};

/**
Download and verify one artifact: resolves with its outcome when there is nothing to
publish (present, not published, failed), else with the publication still to run.
`replacing` when an earlier copy is in the tree; `knownSha512` (a prerelease already
published) skips the download when the upstream's `.sha512` still names it.
*/
export async function downloadArtifact(
	context: RunContext,
	ref: ArtifactRef,
	replacing: boolean,
	knownSha512?: string,
): Promise<Outcome | Publication> {
	const url = joinUrl(context.upstream, ref.path);
	const staged = stagedDownload(context, ref.path);
	const {partPath} = staged;
	let verified: {sha512Sidecar: Buffer; ascSidecar: Buffer; result: DownloadResult};
	try {
		const sidecars = await fetchSidecars(context, ref, url, knownSha512);
		if (!sidecars) {
			context.emit({type: 'not-published', path: ref.path});
			return 'not-published';
		}

		const {sha512: sha512Sidecar, asc: ascSidecar} = sidecars;
		if (ascSidecar === undefined) {
			context.emit({type: 'present', path: ref.path, reason: 'unchanged upstream'});
			return 'present';
		}

		// Read before the download so that the bytes are hashed once for both checks.
		const claims = await readClaims(
			ref.fileName,
			{sha512: sha512Sidecar.toString('utf8'), asc: ascSidecar.toString('utf8')},
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
		verified = {sha512Sidecar, ascSidecar, result};
	} catch (error) {
		return downloadFailed(context, ref.path, error, staged.discard);
	}

	const {sha512Sidecar, ascSidecar, result} = verified;
	return {
		async publish() {
			try {
				await context.writer.publishArtifact(
					{
						ref,
						partPath,
						sha512: result.sha512,
						sha512Sidecar,
						ascSidecar,
						modified: result.lastModified,
						replacing,
					},
					result.size,
				);
				return await published(context, ref.path, staged.metaPath, result);
			} catch (error) {
				return downloadFailed(context, ref.path, error, staged.discard);
			}
		},
	};
}

/** Download, verify and publish one artifact, in one go: downloadArtifact, then its publication. */
export async function fetchArtifact(
	context: RunContext,
	ref: ArtifactRef,
	replacing: boolean,
	knownSha512?: string,
): Promise<Outcome> {
	const next = await downloadArtifact(context, ref, replacing, knownSha512);
	return typeof next === 'string' ? next : next.publish();
}
