/**
The first step of import: the bundle streamed into a staging folder, every file checked
against the bundle's own manifest on the way (size, sha512, nothing extra or missing),
so that a corrupted, truncated or tampered bundle is refused before anything else.
*/
import {createHash} from 'node:crypto';
import {createWriteStream} from 'node:fs';
import path from 'node:path';
import {type Readable, Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import tar from 'tar-stream';
import {BundleError, MirrorError} from '../errors.js';
import {type BundleFile, type BundleManifest, bundleManifestName, parseBundleManifest} from './format.js';

// A bundle of 100,000 artifacts lists 300,000 files: about 90 MiB of manifest.
const manifestMaxBytes = 512 * 1024 * 1024;

async function readEntry(stream: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream) {
		size += (chunk as Buffer).length;
		if (size > limit) {
			throw new BundleError(`${bundleManifestName} is larger than ${limit} bytes`);
		}

		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

/**
Stream the bundle into `staging`, checking each file against the bundle's manifest;
`onProgress` hears of the bytes staged. Files are named by their order in `staging`.
*/
export async function stageBundle(
	options: {
		readonly input: Readable;
		readonly onProgress?: ((done: number, total: number) => void) | undefined;
	},
	staging: string,
): Promise<{bundle: BundleManifest; staged: Map<string, string>}> {
	const extract = tar.extract();
	const input = options.input;
	input.on('error', (error) => extract.destroy(error));
	input.pipe(extract);
	let bundle: BundleManifest | undefined;
	let expected = new Map<string, BundleFile>();
	const staged = new Map<string, string>();
	let done = 0;
	try {
		for await (const entry of extract) {
			const name = entry.header.name;
			if (!bundle) {
				if (name !== bundleManifestName) {
					throw new BundleError(
						`not an export bundle: the first entry is ${name}, not ${bundleManifestName}`,
					);
				}

				bundle = parseBundleManifest((await readEntry(entry, manifestMaxBytes)).toString('utf8'));
				expected = new Map(bundle.files.map((file) => [file.path, file]));
				continue;
			}

			const file = expected.get(name);
			if (entry.header.type !== 'file' || !file) {
				throw new BundleError(`${name} is in the bundle but not in its manifest (a mixed-up bundle?)`);
			}

			if (staged.has(name)) {
				throw new BundleError(`${name} appears twice in the bundle`);
			}

			// An entry larger than the manifest says is refused before a byte of it is written:
			// a crafted bundle must not fill the disk first. The count below guards the same
			// bound while streaming, whatever the header claims.
			const oversized = (size: number) =>
				new BundleError(
					`${name}: ${size} bytes in the bundle, its manifest says ${file.size}; the bundle is corrupted or was tampered with`,
				);
			if (entry.header.size !== undefined && entry.header.size > file.size) {
				throw oversized(entry.header.size);
			}

			const target = path.join(staging, String(staged.size));
			const hash = createHash('sha512');
			let size = 0;
			const counted = new Transform({
				transform(chunk: Buffer, _encoding, callback) {
					size += chunk.length;
					if (size > file.size) {
						callback(oversized(size));
						return;
					}

					hash.update(chunk);
					done += chunk.length;
					options.onProgress?.(done, bundle?.bytes ?? 0);
					callback(null, chunk);
				},
			});
			await pipeline(entry, counted, createWriteStream(target));
			if (size !== file.size || hash.digest('hex') !== file.sha512) {
				throw new BundleError(
					`${name}: the bytes do not match the bundle manifest (${size} bytes, expected ${file.size}); the bundle is corrupted or was tampered with`,
				);
			}

			staged.set(name, target);
		}
	} catch (error) {
		if (error instanceof MirrorError) {
			throw error;
		}

		throw new BundleError(
			`the bundle is truncated or damaged (${(error as Error).message}); is a part missing or out of order?`,
			{cause: error},
		);
	}

	if (!bundle) {
		throw new BundleError('the bundle is empty');
	}

	const missing = bundle.files.filter((file) => !staged.has(file.path));
	if (missing.length > 0) {
		throw new BundleError(
			`the bundle ended before ${missing[0]?.path}${missing.length > 1 ? ` and ${missing.length - 1} more files` : ''}: it is truncated or its last part is missing`,
		);
	}

	return {bundle, staged};
}
