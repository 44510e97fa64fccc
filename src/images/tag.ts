/**
One tag of one repository: its manifest or index asked for, the selected platforms'
manifests, configs and layers fetched and checked, and everything published in
order (blobs, then the manifests naming them, then the index, the tag last). A tag
that still points where the mirror's does is only confirmed. Anything that does not
check out fails the tag, which then keeps pointing where it did (or nowhere).
*/
import pLimit from 'p-limit';
import {fail, type RunContext} from '../agent/context.js';
import {ImageError, NotFoundError, UpstreamError} from '../errors.js';
import {redactText} from '../redact.js';
import {blobPath, type PlatformText} from './catalog.js';
import {missingFrom} from './closure.js';
import {readConfig} from './fetch-blob.js';
import {
	configPlatform,
	type Descriptor,
	manifestTypes,
	parseManifest,
	platformSelected,
	selectIndexEntries,
} from './media.js';
import type {ImageAction} from './plan.js';
import type {RegistrySource} from './registry-source.js';

/** What became of one tag; `missing`: a stack version the repository has no tag for. */
export type TagResult = 'updated' | 'unchanged' | 'skipped' | 'missing' | 'failed';

/** Fetches a blob once per run however many tags name it: 'present' when the mirror holds it. */
export type BlobFetcher = (
	repository: string,
	descriptor: Descriptor,
	why: string,
) => Promise<'published' | 'present'>;

/** What a tag sync needs besides the run's context. */
export type TagSync = {
	readonly source: RegistrySource;
	readonly platforms: readonly PlatformText[];
	readonly fetchBlob: BlobFetcher;
	/**
	Publish a blob from memory (a manifest, an index, a config read whole) once per run:
	two tags naming the same one wait for the same publish instead of racing to write it.
	*/
	readonly publishOnce: (digest: string, publish: () => Promise<void>) => Promise<unknown>;
};

/** Publish a platform manifest's config and layers, then the manifest; resolves with its platform. */
async function syncManifest(
	context: RunContext,
	sync: TagSync,
	action: ImageAction,
	fetched: {bytes: Buffer; digest: string; contentType: string | undefined},
	platform: PlatformText | undefined,
): Promise<PlatformText | undefined> {
	const {repository} = action;
	const parsed = parseManifest(fetched.bytes, fetched.contentType, `${action.path}@${fetched.digest}`);
	if (parsed.kind !== 'manifest') {
		throw new ImageError(
			`${action.path}: ${fetched.digest} is an index inside an index, which ECK images never are`,
		);
	}

	// Foreign layers are pulled from their own URLs by the runtime, never from a registry.
	const layers = parsed.layers.filter((layer) => !layer.foreign);
	const why = `${platform ?? 'image'} of ${action.path}`;
	await Promise.all([
		sync.fetchBlob(repository, parsed.config, `config of ${why}`),
		...layers.map((layer) => sync.fetchBlob(repository, layer, `layer of ${why}`)),
	]);
	await sync.publishOnce(fetched.digest, () =>
		context.writer.publishImageBlob(
			{relative: blobPath(fetched.digest), from: {data: fetched.bytes}},
			{
				digest: fetched.digest,
				size: fetched.bytes.length,
				mediaType: parsed.mediaType,
				refs: [...new Set([parsed.config.digest, ...layers.map((layer) => layer.digest)])],
				...(platform ? {platform} : {}),
			},
		),
	);

	return platform;
}

/** A child manifest of an index, by digest: from the mirror when listed, else from the registry. */
async function childManifest(context: RunContext, sync: TagSync, action: ImageAction, entry: Descriptor) {
	const held = context.writer.manifest.images.blobs[entry.digest];
	if (held && missingFrom(context.writer.manifest.images, entry.digest).length === 0) {
		return undefined;
	}

	const fetched = await sync.source.manifest(action.repository, entry.digest);
	if (fetched.bytes.length !== entry.size) {
		throw new ImageError(
			`${action.path}: manifest ${entry.digest} is ${fetched.bytes.length} bytes, the index says ${entry.size}`,
			{code: 'ERR_DIGEST'},
		);
	}

	return fetched;
}

async function syncTag(context: RunContext, sync: TagSync, action: ImageAction): Promise<TagResult> {
	const {repository, tag, path} = action;
	const writer = context.writer;
	const top = await sync.source.manifest(repository, tag);
	const held = writer.manifest.images.repositories[repository]?.[tag];
	// A platform skipped before but selected now (--image-platforms widened) makes the tag worth a new look.
	const wantedNow = (held?.skipped ?? []).some((platform) => platformSelected(platform, sync.platforms));
	if (
		held?.digest === top.digest &&
		!wantedNow &&
		missingFrom(writer.manifest.images, top.digest).length === 0
	) {
		writer.refreshImageTag(repository, tag, new Date());
		context.emit({type: 'present', path, reason: `${top.digest} unchanged upstream`});
		return 'unchanged';
	}

	const parsed = parseManifest(top.bytes, top.contentType, path);
	let platforms: PlatformText[];
	let skipped: PlatformText[] = [];
	let refs: string[];
	if (parsed.kind === 'index') {
		const kept = selectIndexEntries(parsed.manifests, sync.platforms);
		const images = kept.filter((entry) => entry.attests === undefined);
		skipped = parsed.manifests
			.filter((entry) => entry.attests === undefined && manifestTypes.includes(entry.mediaType))
			.filter((entry) => !kept.includes(entry))
			.map((entry) => entry.platform ?? 'unknown');
		if (images.length === 0) {
			context.emit({
				type: 'warning',
				message: `${path}: none of its platforms (${skipped.join(', ') || 'none'}) is in --image-platforms (${sync.platforms.join(', ')}); skipped`,
			});
			return 'skipped';
		}

		// A registry that is itself a mirror may hold fewer platforms than its index names.
		const absent = new Set<string>();
		// A few at a time: an index is upstream's word, and may list any number of entries.
		const few = pLimit(8);
		await Promise.all(
			kept.map((entry) =>
				few(async () => {
					const fetched = await childManifest(context, sync, action, entry).catch((error: unknown) => {
						if (error instanceof NotFoundError) {
							absent.add(entry.digest);
							return undefined;
						}

						throw error;
					});
					if (fetched) {
						await syncManifest(context, sync, action, fetched, entry.platform);
					}
				}),
			),
		);
		const held = kept.filter(
			(entry) => !absent.has(entry.digest) && !(entry.attests !== undefined && absent.has(entry.attests)),
		);
		const missing = images
			.filter((entry) => absent.has(entry.digest))
			.map((entry) => entry.platform ?? 'unknown');
		if (missing.length === images.length) {
			throw new ImageError(
				`${path}: the registry has none of the selected platforms' manifests (${missing.join(', ')})`,
			);
		}

		if (missing.length > 0) {
			context.emit({
				type: 'warning',
				message: `${path}: the registry lacks the manifest of ${missing.join(', ')} that its index names; the other platforms are kept`,
			});
		}

		skipped = [...skipped, ...missing];
		platforms = [
			...new Set(
				held.flatMap((entry) => (entry.attests === undefined && entry.platform ? [entry.platform] : [])),
			),
		];
		refs = held.map((entry) => entry.digest);
	} else {
		const config = await readConfig(context, sync.source, repository, parsed.config);
		const platform = configPlatform(config) ?? 'unknown';
		if (!sync.platforms.some((wanted) => platform === wanted || platform.startsWith(`${wanted}/`))) {
			context.emit({
				type: 'warning',
				message: `${path}: a single-platform image for ${platform}, which is not in --image-platforms (${sync.platforms.join(', ')}); skipped`,
			});
			return 'skipped';
		}

		await sync.publishOnce(parsed.config.digest, () =>
			writer.publishImageBlob(
				{relative: blobPath(parsed.config.digest), from: {data: config}},
				{digest: parsed.config.digest, size: config.length},
			),
		);

		await syncManifest(context, sync, action, top, platform);
		platforms = [platform];
		refs = [];
	}

	await sync.publishOnce(top.digest, () =>
		writer.publishImageBlob(
			{relative: blobPath(top.digest), from: {data: top.bytes}},
			{
				digest: top.digest,
				size: top.bytes.length,
				mediaType: parsed.mediaType,
				...(parsed.kind === 'index' ? {refs} : {}),
			},
		),
	);
	// An index held from a run with other platforms selected names what this run keeps:
	// its bytes are in the tree, verified when they were published.
	const listed = writer.manifest.images.blobs[top.digest];
	if (
		parsed.kind === 'index' &&
		listed &&
		(listed.refs?.length !== refs.length || refs.some((ref) => !listed.refs?.includes(ref)))
	) {
		const {publishedAt: _, ...entry} = listed;
		writer.recordImageBlobs([{...entry, refs}]);
	}

	// Held with other platforms (--image-platforms widened): the tag is set anew, so
	// export --since carries it and its new platforms. With the same ones (a selected
	// platform the source still lacks), it is only confirmed.
	const same =
		held?.digest === top.digest &&
		held.platforms.length === platforms.length &&
		platforms.every((each) => held.platforms.includes(each));
	if (held?.digest === top.digest && !same) {
		writer.untagImage(repository, tag);
	}

	writer.tagImage(repository, tag, {
		digest: top.digest,
		mediaType: parsed.mediaType,
		size: top.bytes.length,
		platforms,
		...(skipped.length > 0 ? {skipped} : {}),
	});
	if (same) {
		context.emit({type: 'present', path, reason: `${top.digest} unchanged upstream`});
		return 'unchanged';
	}

	context.emit({
		type: 'published',
		path,
		size: top.bytes.length,
		sha512: top.digest,
		resumedFrom: 0,
	});
	return 'updated';
}

/**
Sync one tag: resolves with what became of it. A failure is recorded under
`repository:tag` (a blob's digest in its reason); one that ends the run (the
registry unreachable, the lock lost) is handled as for every file.
*/
export async function syncImageTag(
	context: RunContext,
	sync: TagSync,
	action: ImageAction,
): Promise<TagResult> {
	if (context.stop) {
		return 'failed';
	}

	try {
		return await syncTag(context, sync, action);
	} catch (error) {
		if (error instanceof NotFoundError && action.fromVersions) {
			return 'missing';
		}

		const named =
			error instanceof UpstreamError && error.status === undefined && !error.message.includes(action.path)
				? new UpstreamError(error.url, `${action.path}: ${redactText(error.message)}`, {
						retryable: false,
						code: error.code,
						cause: error,
					})
				: error;
		fail(context, action.path, named);
		return 'failed';
	}
}
