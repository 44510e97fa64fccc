/**
Import: load a bundle made by export into this mirror. Every file is checked
against the bundle's manifest while it streams into a staging folder, then every
artifact against its `.sha512` and its signature against the trusted keys, and
every package version as sync checks one (import-packages.ts), and every Defend
manifest and artifact (import-defend.ts), exactly as sync checks downloads. Only when the whole bundle is sound is anything published, by the
same atomic rename as sync; a bad bundle changes nothing. Container images are the
one exception (import-images.ts): a blob that does not match its digest refuses the
tags reaching it, which are reported as failed, and the rest of the bundle goes in.
*/
import {randomBytes} from 'node:crypto';
import {readFile, rm} from 'node:fs/promises';
import path from 'node:path';
import type {Readable} from 'node:stream';
import {type ArtifactRef, classifyPath, sidecarExtensions} from '../agent/catalog.js';
import {BundleError, describeError} from '../errors.js';
import {openWriter} from '../mirror/writer.js';
import {importStagingPrefix} from '../store/abandoned.js';
import {makeDir, privateDirMode} from '../store/modes.js';
import {withLockedStore} from '../store/open.js';
import type {StoreOptions} from '../store/store.js';
import {checkKeyFile, loadTrustedKeys} from '../trust/keys.js';
import {inspectArtifact} from '../trust/verify-artifact.js';
import type {BundleFile} from './format.js';
import {checkBundleDefend, defendFilePaths, publishBundleDefend} from './import-defend.js';
import {
	checkBundleImages,
	type ImageImportCounts,
	imageFilePaths,
	publishBundleImages,
} from './import-images.js';
import {checkBundlePackages, packageFilePaths, publishBundlePackages} from './import-packages.js';
import {stageBundle} from './stage.js';

/** Where the bundle comes from and what to trust. */
export type ImportOptions = StoreOptions & {
	/** The bundle's bytes, parts already concatenated. */
	readonly input: Readable;
	readonly trustedKeyPaths: readonly string[];
	readonly onProgress?: ((done: number, total: number) => void) | undefined;
	readonly onWarning?: ((message: string) => void) | undefined;
};

/** What an import did. */
export type ImportSummary = {
	/** Artifacts. */
	readonly published: number;
	readonly present: number;
	/** Package versions published and already present. */
	readonly packages: {readonly published: number; readonly present: number};
	/** Defend manifests (versions) and artifacts published and already present; absent for a bundle without them. */
	readonly defend?: {
		readonly versions: {readonly published: number; readonly present: number};
		readonly artifacts: {readonly published: number; readonly present: number};
	};
	/** Image tags and blobs published and present, and the tags refused (with why); absent for a bundle without images. */
	readonly images?: Omit<ImageImportCounts, 'bytes'>;
	readonly keys: number;
	readonly bytes: number;
};

/** Artifacts checked, and then published, at a time. */
const artifactsAtOnce = 8;

/**
`work` for each of `items`, `artifactsAtOnce` at a time: one artifact after another,
each file's read, hash, signature check and fsync wait for the last. Rejects with
the first failure (once the lanes under way have stopped), and starts nothing after it.
*/
async function inTurns<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	let failed = false;
	const lane = async () => {
		while (!failed && next < items.length) {
			const item = items[next++] as T;
			try {
				await work(item);
			} catch (error) {
				failed = true;
				throw error;
			}
		}
	};
	// Every lane settles before the first failure is thrown: nothing is still writing after it.
	const lanes = await Promise.allSettled(Array.from({length: Math.min(artifactsAtOnce, items.length)}, lane));
	const failure = lanes.find((lane) => lane.status === 'rejected');
	if (failure) {
		throw failure.reason;
	}
}

/** Import the bundle into the mirror. Throws BundleError (nothing published) for a bad bundle. */
export async function importBundle(options: ImportOptions): Promise<ImportSummary> {
	const startedAt = new Date();
	const trusted = await loadTrustedKeys(options.trustedKeyPaths);
	return withLockedStore(
		options,
		(message) => options.onWarning?.(message),
		async (store) => {
			// Staged beside the mirror's downloads: for a directory, the same filesystem as the tree.
			const staging = path.join(store.tmp, `${importStagingPrefix}${randomBytes(6).toString('hex')}`);
			try {
				await makeDir(staging, privateDirMode);
				const {bundle, staged} = await stageBundle(options, staging);
				const files = new Map(bundle.files.map((file) => [file.path, file]));

				// Sort what arrived into artifacts with both sidecars, and keys; anything else is refused.
				const artifacts: Array<{ref: ArtifactRef; file: BundleFile}> = [];
				const keys: BundleFile[] = [];
				const ofCollections = new Set([
					...packageFilePaths(bundle),
					...defendFilePaths(bundle),
					...imageFilePaths(bundle),
				]);
				for (const file of bundle.files) {
					if (ofCollections.has(file.path)) {
						continue;
					}

					const kind = classifyPath(file.path);
					if (kind?.kind === 'artifact') {
						for (const extension of sidecarExtensions) {
							if (!files.has(file.path + extension)) {
								throw new BundleError(`${file.path} comes without its ${extension} in the bundle`);
							}
						}

						artifacts.push({ref: kind.ref, file});
					} else if (kind?.kind === 'key') {
						keys.push(file);
					} else if (kind?.kind !== 'sidecar' || !files.has(kind.ref.path)) {
						throw new BundleError(
							`${file.path} is not an artifact, sidecar, key or package file this mirror serves`,
						);
					}
				}

				// Check everything before publishing anything; keep what the checks read for publishing.
				const sidecars = new Map<string, {sha512: Buffer; asc: Buffer}>();
				await inTurns(artifacts, async ({ref}) => {
					const [sha512, asc] = await Promise.all([
						readFile(staged.get(`${ref.path}.sha512`) as string),
						readFile(staged.get(`${ref.path}.asc`) as string),
					]);
					const pair = {sha512, asc};
					sidecars.set(ref.path, pair);
					const {broken} = await inspectArtifact(
						{
							fileName: ref.fileName,
							sha512Sidecar: pair.sha512.toString('utf8'),
							ascSidecar: pair.asc.toString('utf8'),
							source: staged.get(ref.path) as string,
						},
						trusted,
					);
					if (broken?.rule === 'sha512') {
						throw new BundleError(
							`${ref.path}: its .sha512 does not match the file (the agent would reject it)`,
						);
					}

					if (broken) {
						throw broken.error;
					}
				});

				const keyData = new Map<string, {data: Buffer; fingerprints: string[]}>();
				for (const key of keys) {
					const data = await readFile(staged.get(key.path) as string);
					const {fingerprints, untrusted} = await checkKeyFile(data.toString('utf8'), trusted).catch(
						(error: unknown) => {
							throw new BundleError(
								`${key.path} in the bundle is not a clean key file: ${describeError(error)}`,
							);
						},
					);
					keyData.set(key.path, {data, fingerprints});
					if (untrusted.length > 0) {
						throw new BundleError(
							`${key.path} in the bundle holds key ${untrusted.join(', ')}, which is not trusted`,
						);
					}
				}

				const packages = await checkBundlePackages(bundle, staged, trusted);
				const {writer} = await openWriter(store);
				const defend = await checkBundleDefend(bundle, staged, writer.manifest);
				const images = await checkBundleImages(bundle, staged);
				// What the mirror holds, asked once as sync asks (one listing per folder in a bucket).
				const held = await store.inspect(artifacts.map(({ref}) => ref));
				let published = 0;
				let present = 0;
				let bytes = 0;
				await inTurns(artifacts, async ({ref, file}) => {
					const current = writer.manifest.files[ref.path];
					const size = held.get(ref.path)?.size;
					if (current?.sha512 === file.sha512 && size === file.size) {
						present++;
						return;
					}

					const pair = sidecars.get(ref.path) as {sha512: Buffer; asc: Buffer};
					const parsed = new Date(file.modified);
					await writer.publishArtifact(
						{
							ref,
							partPath: staged.get(ref.path) as string,
							sha512: file.sha512,
							sha512Sidecar: pair.sha512,
							ascSidecar: pair.asc,
							modified: Number.isNaN(parsed.getTime()) ? undefined : parsed,
							replacing: size !== undefined,
						},
						file.size,
					);
					published++;
					bytes += file.size;
				});

				let keyCount = 0;
				for (const key of keys) {
					const {data, fingerprints} = keyData.get(key.path) as {data: Buffer; fingerprints: string[]};
					if (writer.manifest.keys[key.path]?.sha512 !== key.sha512) {
						await writer.publishKey(key.path, data, fingerprints);
						keyCount++;
					}
				}

				const packageCounts = await publishBundlePackages(store, writer, packages);
				bytes += packageCounts.bytes;
				const defendCounts = await publishBundleDefend(store, writer, defend, (message) =>
					options.onWarning?.(message),
				);
				bytes += defendCounts.bytes;
				const {bytes: imageBytes, ...imageCounts} = await publishBundleImages(
					store,
					writer,
					images,
					(message) => options.onWarning?.(message),
				);
				bytes += imageBytes;
				await writer.save();
				await writer.recordRun({
					kind: 'import',
					startedAt,
					result: imageCounts.failed.length > 0 ? 'failed' : 'success',
					counts: {
						published,
						present,
						notPublished: 0,
						failed: imageCounts.failed.length,
						bytes,
						keys: {published: keyCount, present: keys.length - keyCount},
						...(packages.length > 0
							? {packages: {published: packageCounts.published, present: packageCounts.present, failed: 0}}
							: {}),
					},
					// An import publishes all of a bundle or nothing, but for image tags a bad blob refused.
					failures: imageCounts.failed.map(({path, reason}) => ({path, reason})),
				});
				return {
					published,
					present,
					packages: {published: packageCounts.published, present: packageCounts.present},
					...(bundle.defend
						? {defend: {versions: defendCounts.versions, artifacts: defendCounts.artifacts}}
						: {}),
					...(bundle.images ? {images: imageCounts} : {}),
					keys: keyCount,
					bytes,
				};
			} finally {
				await rm(staging, {recursive: true, force: true});
			}
		},
	);
}
