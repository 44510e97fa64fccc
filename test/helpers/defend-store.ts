/**
Mirrors of Elastic Defend protections built through the writer, as a sync would
build them, from the bytes a fake security host serves: each artifact published
(entries from its bytes and the manifest), then the manifest naming them. For the
maintenance tests (bundle, verify, prune, S3), which must not depend on sync.
*/
import {createHash} from 'node:crypto';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {defendManifestPath} from '../../src/defend/catalog.js';
import {readDefendManifestZip} from '../../src/defend/verify.js';
import {openWriter} from '../../src/mirror/writer.js';
import type {StoreLocation} from '../../src/store/location.js';
import {openStore} from '../../src/store/open.js';
import type {FakeSecurityHost} from './fake-security.js';

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/**
Publish the manifests of `versions` as `host` serves them now, with every artifact
they name (one already listed with the same bytes is published again all the same),
into the mirror at `location`.
*/
export async function publishDefendVersions(
	location: StoreLocation,
	host: FakeSecurityHost,
	versions: readonly string[],
): Promise<void> {
	const scratch = await mkdtemp(path.join(os.tmpdir(), 'defend-store-'));
	const store = await openStore({location});
	try {
		const lock = await store.lock(() => undefined);
		try {
			const {writer} = await openWriter(store);
			for (const version of versions) {
				const zipPath = defendManifestPath(version);
				const zip = host.file(zipPath);
				if (!zip) {
					throw new Error(`the fake host serves no manifest for ${version}`);
				}

				const local = path.join(scratch, `${version}.zip`);
				await writeFile(local, zip);
				const manifest = await readDefendManifestZip(local, zipPath);
				for (const ref of manifest.artifacts) {
					const data = host.file(ref.path);
					if (!data) {
						throw new Error(`the fake host serves no ${ref.path}`);
					}

					await writer.publishDefendArtifact(
						{relative: ref.path, from: {data}, sha512: sha512(data)},
						{
							path: ref.path,
							size: data.length,
							sha512: sha512(data),
							encodedSha256: createHash('sha256').update(data).digest('hex'),
							decodedSha256: ref.decodedSha256,
							decodedSize: ref.decodedSize,
							compression: ref.compression,
						},
					);
				}

				const now = new Date().toISOString();
				await writer.publishDefendManifest(
					{relative: zipPath, from: {data: zip}, sha512: sha512(zip)},
					{
						version,
						path: zipPath,
						size: zip.length,
						sha512: sha512(zip),
						manifestVersion: manifest.manifestVersion,
						schemaVersion: manifest.schemaVersion,
						artifacts: manifest.artifacts.map((ref) => ref.path),
						refreshedAt: now,
					},
				);
			}

			await writer.save({always: true});
		} finally {
			await lock.release();
		}
	} finally {
		store.close();
		await rm(scratch, {recursive: true, force: true});
	}
}
