/**
Mirrors that hold Elastic Defend protections without a sync: a security host's
manifest zips and artifacts published through the writer in sync's order (artifacts
first, the manifest naming them last), with entries computed from the bytes, so serve,
its APIs and the pages can be tested on their own.
*/
import {createHash, randomUUID} from 'node:crypto';
import {mkdir, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {inflateSync} from 'node:zlib';
import {parseDefendManifestPath} from '../../src/defend/catalog.js';
import {readDefendManifestZip} from '../../src/defend/verify.js';
import {openWriter} from '../../src/mirror/writer.js';
import type {StoreLocation} from '../../src/store/location.js';
import {openStore} from '../../src/store/open.js';

/** What publishDefend reads of a security host (the fake's FakeSecurityHost is one). */
export type DefendSource = {
	/** The served bytes of a tree path. */
	file(relative: string): Buffer | undefined;
	/** A version's manifest zip path first, then the artifacts it names. */
	filesOf(version: string): string[];
};

const digest = (algorithm: 'sha256' | 'sha512', data: Uint8Array) =>
	createHash(algorithm).update(data).digest('hex');

/**
Publish `versions` of `host` into the mirror at `location`, as sync would: each artifact
not held yet from a local part file (so a large one is uploaded the way sync uploads
it), then the manifest zip. `refreshedAt` backdates the versions' refresh time.
*/
export async function publishDefend(
	location: StoreLocation,
	host: DefendSource,
	versions: readonly string[],
	options: {refreshedAt?: Date} = {},
): Promise<void> {
	const store = await openStore({location});
	try {
		const lock = await store.lock(() => undefined);
		try {
			await mkdir(store.tmp, {recursive: true});
			const part = async (data: Buffer) => {
				const file = path.join(store.tmp, `defend-${randomUUID()}.part`);
				await writeFile(file, data);
				return file;
			};

			const {writer} = await openWriter(store);
			const startedAt = new Date();
			let bytes = 0;
			for (const version of versions) {
				const [zipPath, ...artifactPaths] = host.filesOf(version);
				const zip = zipPath ? host.file(zipPath) : undefined;
				if (!zipPath || !zip || parseDefendManifestPath(zipPath) !== version) {
					throw new Error(`the host has no manifest for ${version}`);
				}

				const zipFile = await part(zip);
				const manifest = await readDefendManifestZip(zipFile, zipPath);
				await rm(zipFile);
				for (const ref of manifest.artifacts) {
					const data = host.file(ref.path);
					if (!data || !artifactPaths.includes(ref.path)) {
						throw new Error(`the host does not serve ${ref.path}`);
					}

					// An encrypted artifact only Endpoint can open: its decoded digest is the manifest's word.
					const sealed = ref.encryption !== 'none';
					const decoded = sealed ? undefined : ref.compression === 'zlib' ? inflateSync(data) : data;
					const entry = {
						path: ref.path,
						size: data.length,
						sha512: digest('sha512', data),
						encodedSha256: digest('sha256', data),
						decodedSha256: decoded ? digest('sha256', decoded) : ref.decodedSha256,
						decodedSize: decoded ? decoded.length : ref.decodedSize,
						compression: ref.compression,
						encryption: ref.encryption,
					};
					if (entry.encodedSha256 !== ref.encodedSha256 || entry.decodedSha256 !== ref.decodedSha256) {
						throw new Error(`${ref.path} does not match its manifest entry: publish only good versions`);
					}

					if (!writer.manifest.defend.artifacts[ref.path]) {
						await writer.publishDefendArtifact(
							{relative: ref.path, from: {partPath: await part(data)}},
							entry,
						);
						bytes += data.length;
					}
				}

				const at = (options.refreshedAt ?? new Date()).toISOString();
				await writer.publishDefendManifest(
					{relative: zipPath, from: {data: zip}},
					{
						version,
						path: zipPath,
						size: zip.length,
						sha512: digest('sha512', zip),
						manifestVersion: manifest.manifestVersion,
						schemaVersion: manifest.schemaVersion,
						artifacts: manifest.artifacts.map((ref) => ref.path),
						refreshedAt: at,
					},
				);
			}

			await writer.save({always: true});
			// As a sync records its run, so the page's status line shows what the mirror holds
			// (its artifact counts are of binaries: Defend files count only in bytes here).
			await writer.recordRun({
				startedAt,
				result: 'success',
				counts: {published: 0, present: 0, notPublished: 0, failed: 0, bytes},
				failures: [],
			});
		} finally {
			await lock.release();
		}
	} finally {
		store.close();
	}
}
