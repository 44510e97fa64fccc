/**
One image blob (a layer or a config) from the source registry: downloaded into the
store's temp folder with the repository's token (resumed where a broken transfer
left off), its size and sha256 checked against the descriptor in the same pass that
writes it, and published under `oci/blobs/sha256/<hex>`. A blob that does not check
out is never published. A config can also be read whole into memory, checked the same way.
*/
import {published, type RunContext} from '../agent/context.js';
import {downloadChecked, stagedDownload} from '../agent/staged-download.js';
import {ImageError, MirrorError, UpstreamError} from '../errors.js';
import type {SignedDigestSpec} from '../trust/digest.js';
import {blobPath} from './catalog.js';
import type {Descriptor} from './media.js';
import {type RegistrySource, sha256Of} from './registry-source.js';

/** The plain sha256 of the bytes, from the download's own pass. */
export const sha256Spec: SignedDigestSpec = {
	algorithm: 'sha256',
	salt: new Uint8Array(),
	signatureData: new Uint8Array(),
	version: 0,
	plain: true,
};

/** Whether an error is the registry answering 401: the token ran out. */
function unauthorized(error: unknown): boolean {
	return error instanceof MirrorError && (error as {status?: number}).status === 401;
}

/**
Download, check and publish the blob `descriptor` names, from `repository` on
`source`; throws why it could not (the tag that needs it reports the failure). A 401 (a token that ran out during a long run) gets one more try with a
new token; the part already downloaded is resumed.
*/
export async function fetchImageBlob(
	context: RunContext,
	source: RegistrySource,
	repository: string,
	descriptor: Descriptor,
): Promise<'published'> {
	const relative = blobPath(descriptor.digest);
	const staged = stagedDownload(context, relative);
	const attempt = async () => {
		const {url} = await source.blob(repository, descriptor.digest);
		return downloadChecked(
			context,
			url,
			relative,
			staged,
			async (result) => {
				const sha256 = `sha256:${Buffer.from(result.digests.signed.at(-1) ?? []).toString('hex')}`;
				if (result.size !== descriptor.size || sha256 !== descriptor.digest) {
					throw new ImageError(
						`${repository}@${descriptor.digest}: the registry sent ${result.size} bytes with digest ${sha256}, the manifest says ${descriptor.size} bytes`,
						{code: 'ERR_DIGEST'},
					);
				}
			},
			{
				total: descriptor.size,
				// A hostile registry cannot fill the disk: nothing past the descriptor's size is written.
				maxBytes: descriptor.size,
				digests: [sha256Spec],
				headers: async () => (await source.blob(repository, descriptor.digest)).headers,
			},
		);
	};

	try {
		let done: Awaited<ReturnType<typeof attempt>>;
		try {
			done = await attempt();
		} catch (error) {
			if (!unauthorized(error)) {
				throw error;
			}

			source.forget(repository);
			done = await attempt();
		}

		const {result} = done;
		await context.writer.publishImageBlob(
			{relative, from: {partPath: staged.partPath}, sha512: result.sha512},
			{digest: descriptor.digest, size: result.size},
		);
		await published(context, relative, staged.metaPath, result);
		return 'published';
	} catch (error) {
		// Bad bytes and unwritable temp entries go; a transfer that broke off is kept to resume.
		const lockLost = error instanceof MirrorError && error.code === 'ERR_LOCK_LOST';
		if (!lockLost && (!(error instanceof UpstreamError) || error.code === 'ERR_LOCAL_IO')) {
			await staged.discard();
		}

		throw error;
	}
}

/** Image configs are small JSON; this bounds one read into memory. */
const maxConfigBytes = 16 * 1024 * 1024;

/** A config read whole (to learn a single-platform image's platform before anything is published). */
export async function readConfig(
	context: RunContext,
	source: RegistrySource,
	repository: string,
	descriptor: Descriptor,
): Promise<Buffer> {
	const held = context.writer.manifest.images.blobs[descriptor.digest];
	if (held) {
		const bytes = await context.store.readFile(blobPath(descriptor.digest));
		if (bytes && sha256Of(bytes) === descriptor.digest) {
			return bytes;
		}
	}

	const {url, headers} = await source.blob(repository, descriptor.digest);
	const answer = await context.client.fetch(url, {headers, maxBytes: maxConfigBytes});
	if (answer.body.length !== descriptor.size || sha256Of(answer.body) !== descriptor.digest) {
		throw new ImageError(
			`${repository}@${descriptor.digest}: the registry sent a config of ${answer.body.length} bytes with digest ${sha256Of(answer.body)}`,
			{code: 'ERR_DIGEST'},
		);
	}

	return answer.body;
}
