/**
Export: the mirror, or a selection of it, as one self-describing tar bundle for
carrying across an air gap. Nothing is trusted blindly: each artifact is re-hashed
as it is written and must match the manifest sync recorded.
*/
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import type {Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import tar from 'tar-stream';
import {keyFiles, sidecarExtensions} from '../catalog.js';
import {BundleError, MirrorError} from '../errors.js';
import {userAgent} from '../meta.js';
import {writeFileAtomic} from '../store/atomic.js';
import {type Layout, layout, treePath} from '../store/layout.js';
import {readManifest} from '../store/manifest.js';
import {type Selection, selectEntries} from '../store/select.js';
import {acquireLock} from '../sync/lock.js';
import {type BundleFile, type BundleManifest, bundleManifestName} from './format.js';
import {createPartWriter} from './parts.js';

/** What to export and where. */
export type ExportOptions = {
	readonly dir: string;
	/** A file name, or `-` for `stdout`. */
	readonly out: string;
	readonly stdout?: Writable | undefined;
	readonly splitSize?: number | undefined;
	readonly selection: Selection;
	/** Only files published after this; `last`: after the previous export's start. */
	readonly since?: Date | 'last' | undefined;
	readonly onProgress?: ((done: number, total: number) => void) | undefined;
	readonly onWarning?: ((message: string) => void) | undefined;
};

/** What an export wrote. */
export type ExportSummary = {
	readonly artifacts: number;
	readonly files: number;
	readonly bytes: number;
	/** The files written (one, or the numbered parts); empty for stdout. */
	readonly outputs: readonly string[];
	readonly since: string | undefined;
};

type ExportState = {lastExportAt?: string};

async function readExportState(mirror: Layout): Promise<ExportState> {
	try {
		return JSON.parse(await readFile(mirror.exportState, 'utf8')) as ExportState;
	} catch {
		return {};
	}
}

async function describeFile(file: string, relative: string, sha512?: string): Promise<BundleFile> {
	const info = await stat(file).catch(() => undefined);
	if (!info) {
		throw new MirrorError('ERR_MISSING', `${relative} is in the manifest but not on disk; run verify`);
	}

	return {
		path: relative,
		size: info.size,
		sha512:
			sha512 ??
			createHash('sha512')
				.update(await readFile(file))
				.digest('hex'),
		modified: info.mtime.toISOString(),
	};
}

/** Write the bundle. Takes the mirror's lock, so that no sync changes files mid-export. */
export async function exportBundle(options: ExportOptions): Promise<ExportSummary> {
	const mirror = layout(options.dir);
	const startedAt = new Date();
	const lock = await acquireLock(mirror.lock);
	try {
		const {manifest, warning} = await readManifest(mirror);
		if (warning) {
			throw new MirrorError('ERR_MANIFEST', warning);
		}

		const {selected, warnings} = selectEntries(Object.values(manifest.files), options.selection);
		for (const message of warnings) {
			options.onWarning?.(message);
		}

		let since: Date | undefined;
		if (options.since === 'last') {
			const last = (await readExportState(mirror)).lastExportAt;
			if (!last) {
				throw new MirrorError('ERR_NO_PREVIOUS_EXPORT', '--since last: this mirror has no previous export');
			}

			since = new Date(last);
		} else {
			since = options.since;
		}

		const chosen = since
			? selected.filter((entry) => new Date(entry.publishedAt).getTime() > (since as Date).getTime())
			: selected;
		if (chosen.length === 0) {
			throw new MirrorError(
				'ERR_NOTHING_TO_EXPORT',
				since
					? `nothing was published since ${since.toISOString()}`
					: 'the selection matches no artifact in the mirror',
			);
		}

		const files: BundleFile[] = [];
		for (const entry of chosen) {
			const artifact = await describeFile(treePath(mirror, entry.path), entry.path, entry.sha512);
			if (artifact.size !== entry.size) {
				throw new MirrorError(
					'ERR_CHANGED',
					`${entry.path} on disk is not the size the manifest records; run verify`,
				);
			}

			for (const extension of sidecarExtensions) {
				files.push(await describeFile(treePath(mirror, entry.path + extension), entry.path + extension));
			}

			files.push(artifact);
		}

		for (const name of keyFiles) {
			if (manifest.keys[name]) {
				files.push(await describeFile(treePath(mirror, name), name));
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
			for (const file of files) {
				const hash = createHash('sha512');
				const entry = pack.entry({
					name: file.path,
					size: file.size,
					mtime: new Date(file.modified),
					mode: 0o644,
				});
				const source = createReadStream(treePath(mirror, file.path));
				source.on('data', (chunk) => {
					hash.update(chunk as Buffer);
					done += chunk.length;
					options.onProgress?.(done, bytes);
				});
				await pipeline(source, entry);
				if (hash.digest('hex') !== file.sha512) {
					throw new BundleError(`${file.path} changed on disk while exporting (sha512 differs); run verify`);
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
		await writeFileAtomic(
			mirror.exportState,
			`${JSON.stringify({lastExportAt: startedAt.toISOString()}, null, '\t')}\n`,
			mirror.state,
		);
		return {artifacts: chosen.length, files: files.length, bytes, outputs, since: since?.toISOString()};
	} finally {
		await lock.release();
	}
}
