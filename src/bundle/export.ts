/**
Export: the mirror, or a selection of it, as one self-describing tar bundle for
carrying across an air gap: artifacts with their sidecars, key files, and package
versions (zip, signature, info) with their manifest entries, and Elastic Defend
manifests and artifacts with theirs, and container image blobs (each digest once)
with the tags (export-select.ts). Nothing is trusted
blindly: each file is re-hashed as it is written and must match the manifest sync
recorded.
Over 300 lines because it is the one pass that describes and writes every
collection's files, each checked against what the mirror recorded for it.
*/
import {createHash} from 'node:crypto';
import type {Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import tar from 'tar-stream';
import {keyFiles, sidecarExtensions} from '../agent/catalog.js';
import {type Selection, selectEntries} from '../agent/select.js';
import {BundleError, describeError, MirrorError, NothingNewError} from '../errors.js';
import {blobPath} from '../images/catalog.js';
import {userAgent} from '../meta.js';
import {type PackageRequest, packageFiles} from '../packages/catalog.js';
import {type FileFacts, type PackageEntry, readUsableManifest} from '../store/manifest.js';
import {withReadStore} from '../store/open.js';
import type {MirrorStore, StoreOptions} from '../store/store.js';
import type {VersionSpec} from '../versions.js';
import {chooseDefend, chooseImages, choosePackages} from './export-select.js';
import {type BundleFile, type BundleManifest, bundleManifestName} from './format.js';
import {createPartWriter} from './parts.js';

/** What to export and where. */
export type ExportOptions = StoreOptions & {
	/** A file name, or `-` for `stdout`. */
	readonly out: string;
	readonly stdout?: Writable | undefined;
	readonly splitSize?: number | undefined;
	/** Which artifacts; binaries: false leaves every artifact out. */
	readonly selection: Selection;
	readonly binaries?: boolean | undefined;
	/**
	Which package versions (with the versions they require); absent: all of them;
	`none`: no package.
	*/
	readonly packages?: readonly PackageRequest[] | 'none' | undefined;
	/** Which Defend versions (against what the mirror holds); absent: all; `none`: no Defend. */
	readonly defend?: readonly VersionSpec[] | 'none' | undefined;
	/** Only files published after this; `last`: after the previous export's start. */
	readonly since?: Date | 'last' | undefined;
	readonly onProgress?: ((done: number, total: number) => void) | undefined;
	readonly onWarning?: ((message: string) => void) | undefined;
};

/** What an export wrote. */
export type ExportSummary = {
	readonly artifacts: number;
	/** Package versions. */
	readonly packages: number;
	/** Defend manifests (versions) and artifacts. */
	readonly defend: {readonly versions: number; readonly artifacts: number};
	/** Image tags and blobs. */
	readonly images: {readonly tags: number; readonly blobs: number};
	readonly files: number;
	readonly bytes: number;
	/** The files written (one, or the numbered parts); empty for stdout. */
	readonly outputs: readonly string[];
	readonly since: string | undefined;
};

type ExportState = {lastExportAt?: string};

async function readExportState(store: MirrorStore): Promise<ExportState> {
	try {
		return JSON.parse((await store.readState('export.json')) ?? '{}') as ExportState;
	} catch {
		return {};
	}
}

/** A package version's three files as bundle entries, each checked against its manifest facts. */
async function describePackage(store: MirrorStore, entry: PackageEntry): Promise<BundleFile[]> {
	const [zip, signature, info] = packageFiles(entry.path) as [string, string, string];
	const facts: Array<[string, FileFacts]> = [
		[signature, entry.signature],
		[zip, entry],
		[info, entry.info],
	];
	const files: BundleFile[] = [];
	for (const [relative, fact] of facts) {
		files.push(await describeListed(store, relative, fact));
	}

	return files;
}

/** A listed file's bundle entry, its size checked against the manifest's. */
async function describeListed(store: MirrorStore, relative: string, facts: FileFacts): Promise<BundleFile> {
	const file = await describeFile(store, relative, facts.sha512);
	if (file.size !== facts.size) {
		throw new MirrorError(
			'ERR_CHANGED',
			`${relative} in ${store.label} is not the size the manifest records; run verify`,
		);
	}

	return file;
}

/**
An image blob's bundle entry. The manifest records no sha512 for blobs, so the one
hashed here is what the bundle is checked against; the digest itself is checked by
the importer, which re-hashes every blob.
*/
async function describeBlob(store: MirrorStore, entry: {digest: string; size: number}): Promise<BundleFile> {
	const relative = blobPath(entry.digest);
	const info = await store.stat(relative);
	if (!info) {
		throw new MirrorError(
			'ERR_MISSING',
			`${relative} is in the manifest but not in ${store.label}; run verify`,
		);
	}

	if (info.size !== entry.size) {
		throw new MirrorError(
			'ERR_CHANGED',
			`${relative} in ${store.label} is not the size the manifest records; run verify`,
		);
	}

	// Streamed: a layer can be far larger than anything worth holding in memory.
	const hash = createHash('sha512');
	for await (const chunk of await store.openRead(relative)) {
		hash.update(chunk as Buffer);
	}

	return {path: relative, size: info.size, sha512: hash.digest('hex'), modified: info.modified.toISOString()};
}

/** A file's bundle entry; sidecars and keys (small, not in the manifest) are hashed here. */
async function describeFile(store: MirrorStore, relative: string, sha512?: string): Promise<BundleFile> {
	const info = await store.stat(relative);
	const missing = () =>
		new MirrorError('ERR_MISSING', `${relative} is in the manifest but not in ${store.label}; run verify`);
	if (!info) {
		throw missing();
	}

	let digest = sha512;
	if (digest === undefined) {
		const data = await store.readFile(relative);
		if (!data) {
			throw missing();
		}

		digest = createHash('sha512').update(data).digest('hex');
	}

	return {path: relative, size: info.size, sha512: digest, modified: info.modified.toISOString()};
}

/** Artifacts described at a time (stats and sidecar reads in flight together). */
const describeBatch = 64;
/** Files up to this size are read whole, a window of them ahead of the one being written. */
const smallFile = 256 * 1024;
const readAheadFiles = 32;

/**
The contents of `files[index]` when it is small (undefined for a larger one, which is
streamed), with the next small files' reads already under way: writing 300,000 small
files one open-read-close after another leaves the disk and the CPU waiting in turn.
*/
function readAhead(
	store: MirrorStore,
	files: readonly BundleFile[],
): (index: number) => Promise<Buffer | undefined> {
	const reads = new Map<number, Promise<Buffer | undefined>>();
	let next = 0;
	return async (index) => {
		for (; next < Math.min(files.length, index + readAheadFiles); next++) {
			const file = files[next] as BundleFile;
			if (file.size <= smallFile) {
				// A failed read is a missing file: the check below names it.
				const read = store.readFile(file.path).then(
					(data) => data ?? Buffer.alloc(0),
					() => Buffer.alloc(0),
				);
				reads.set(next, read);
			}
		}

		const read = reads.get(index);
		reads.delete(index);
		return read;
	};
}

/**
Write the bundle. Export only reads the mirror: it takes no lock (a read-only mirror
works) but refuses to start while a sync holds it, and a file a sync replaces
meanwhile fails the export (its sha512 is checked as it is written). The one write
is `.mirror/export.json`, the start time `--since last` reads; when the mirror is
read-only that is a warning.
*/
export async function exportBundle(options: ExportOptions): Promise<ExportSummary> {
	const startedAt = new Date();
	return withReadStore(
		options,
		(message) => options.onWarning?.(message),
		async (store) => {
			const manifest = await readUsableManifest(store);

			const binaries =
				options.binaries === false
					? {selected: [], warnings: []}
					: selectEntries(Object.values(manifest.files), options.selection);
			const selected = binaries.selected;
			const packages = choosePackages(manifest, options.packages);
			let since: Date | undefined;
			if (options.since === 'last') {
				const last = (await readExportState(store)).lastExportAt;
				if (!last) {
					throw new MirrorError('ERR_NO_PREVIOUS_EXPORT', '--since last: this mirror has no previous export');
				}

				since = new Date(last);
			} else {
				since = options.since;
			}

			const recent = (entry: {publishedAt: string}) =>
				!since || new Date(entry.publishedAt).getTime() > since.getTime();
			const chosen = selected.filter(recent);
			const chosenPackages = packages.chosen.filter(recent);
			const defend = chooseDefend(manifest, options.defend, recent);
			// Images go along unless a collection flag (--packages, --defend-artifacts) narrowed the export.
			const images = chooseImages(
				manifest,
				options.packages === undefined && options.defend === undefined,
				recent,
			);
			for (const message of [...binaries.warnings, ...packages.warnings, ...defend.warnings]) {
				options.onWarning?.(message);
			}

			const defendCount = defend.versions.length + defend.artifacts.length;
			const imageCount = images.tags + images.blobs.length;
			if (chosen.length === 0 && chosenPackages.length === 0 && defendCount === 0 && imageCount === 0) {
				throw since
					? new NothingNewError(since.toISOString())
					: new MirrorError(
							'ERR_NOTHING_TO_EXPORT',
							'the selection matches no artifact, package version or Defend manifest in the mirror, and no image tag',
						);
			}

			const files: BundleFile[] = [];
			// Described a batch at a time, each batch's stats and sidecar reads together:
			// one after the other, 100,000 artifacts wait on 500,000 calls in turn.
			for (let start = 0; start < chosen.length; start += describeBatch) {
				const described = await Promise.all(
					chosen.slice(start, start + describeBatch).map(async (entry) => {
						const [artifact, ...sidecars] = await Promise.all([
							describeListed(store, entry.path, entry),
							...sidecarExtensions.map((extension) => describeFile(store, entry.path + extension)),
						]);
						return [...sidecars, artifact as BundleFile];
					}),
				);
				files.push(...described.flat());
			}

			for (const entry of chosenPackages) {
				files.push(...(await describePackage(store, entry)));
			}

			// Artifacts before the manifests naming them, the order an importer publishes them in.
			for (const entry of [...defend.artifacts, ...defend.versions]) {
				files.push(await describeListed(store, entry.path, entry));
			}

			// Blobs before the manifests naming them, the order an importer publishes them in.
			for (const entry of images.blobs) {
				files.push(await describeBlob(store, entry));
			}

			for (const name of keyFiles) {
				if (manifest.keys[name]) {
					files.push(await describeFile(store, name));
				}
			}

			const bytes = files.reduce((sum, file) => sum + file.size, 0);
			const bundle: BundleManifest = {
				format: 'elastic-artifact-mirror-bundle',
				version: 1,
				createdAt: startedAt.toISOString(),
				producer: userAgent,
				since: since?.toISOString(),
				artifacts: chosen.length,
				bytes,
				files,
				...(chosenPackages.length > 0 ? {packages: chosenPackages} : {}),
				...(defendCount > 0 ? {defend: {versions: defend.versions, artifacts: defend.artifacts}} : {}),
				...(imageCount > 0 ? {images: {blobs: images.blobs, repositories: images.repositories}} : {}),
			};

			const writer = options.out === '-' ? undefined : createPartWriter(options.out, options.splitSize);
			const sink = writer?.stream ?? options.stdout;
			if (!sink) {
				throw new Error('export to - needs a stdout stream');
			}

			const pack = tar.pack();
			const writing = pipeline(pack, sink);
			writing.catch(() => undefined);
			try {
				const manifestBody = Buffer.from(`${JSON.stringify(bundle, null, '\t')}\n`);
				await new Promise<void>((resolve, reject) => {
					pack.entry(
						{name: bundleManifestName, size: manifestBody.length, mtime: startedAt},
						manifestBody,
						(error) => (error ? reject(error) : resolve()),
					);
				});
				let done = 0;
				const ahead = readAhead(store, files);
				for (const [index, file] of files.entries()) {
					const small = await ahead(index);
					if (small) {
						// A sidecar or a small file: read ahead whole, checked before it is written.
						if (
							small.length !== file.size ||
							createHash('sha512').update(small).digest('hex') !== file.sha512
						) {
							throw new BundleError(
								`${file.path} changed in ${store.label} while exporting (sha512 differs); run verify`,
							);
						}

						await new Promise<void>((resolve, reject) => {
							pack.entry(
								{name: file.path, size: file.size, mtime: new Date(file.modified), mode: 0o644},
								small,
								(error) => (error ? reject(error) : resolve()),
							);
						});
						done += small.length;
						options.onProgress?.(done, bytes);
						continue;
					}

					const hash = createHash('sha512');
					const entry = pack.entry({
						name: file.path,
						size: file.size,
						mtime: new Date(file.modified),
						mode: 0o644,
					});
					const source = await store.openRead(file.path);
					source.on('data', (chunk) => {
						hash.update(chunk as Buffer);
						done += chunk.length;
						options.onProgress?.(done, bytes);
					});
					await pipeline(source, entry);
					if (hash.digest('hex') !== file.sha512) {
						throw new BundleError(
							`${file.path} changed in ${store.label} while exporting (sha512 differs); run verify`,
						);
					}
				}

				pack.finalize();
				await writing;
			} catch (error) {
				pack.destroy();
				await writer?.abort();
				throw error;
			}

			const outputs = (await writer?.commit()) ?? [];
			await store
				.writeState('export.json', `${JSON.stringify({lastExportAt: startedAt.toISOString()}, null, '\t')}\n`)
				.catch((error: unknown) => {
					options.onWarning?.(
						`could not record this export for --since last (${describeError(error)}); the bundle is complete`,
					);
				});
			return {
				artifacts: chosen.length,
				packages: chosenPackages.length,
				defend: {versions: defend.versions.length, artifacts: defend.artifacts.length},
				images: {tags: images.tags, blobs: images.blobs.length},
				files: files.length,
				bytes,
				outputs,
				since: since?.toISOString(),
			};
		},
	);
}
