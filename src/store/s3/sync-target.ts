/**
Sync into an object store. A PUT is atomic for readers, so publishing needs no
rename: each file is verified whole in a local temp folder first, then uploaded,
sidecars before their artifact, and the manifest that servers index by is written
after the files it lists. The store's own state (manifest, status, lock) lives
under `<prefix>/.mirror/`, which the server never serves; nothing temporary is
ever written to the bucket (an unfinished multipart upload is invisible).
*/
import {createHash} from 'node:crypto';
import {mkdir, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {classifyPath} from '../../catalog.js';
import {cacheControlFor, contentTypeFor} from '../../server/content-type.js';
import type {SyncTarget} from '../../sync/target.js';
import {stateFolder} from '../layout.js';
import {emptyManifest, parseManifest, serializeManifest} from '../manifest.js';
import {parseStatus, serializeStatus, withRun} from '../status.js';
import {createS3Store, type S3Store} from './client.js';
import {acquireLease, defaultLeaseOptions, type LeaseOptions} from './lease.js';
import type {S3Location} from './location.js';

/** Keys of the mirror's own state, relative to the prefix. */
export const s3State = {
	manifest: `${stateFolder}/manifest.json`,
	status: `${stateFolder}/status.json`,
	lock: `${stateFolder}/sync.lock`,
} as const;

/** Object metadata the server reads back: the artifact's sha512 and upstream date. */
export const metadataKeys = {sha512: 'sha512', modified: 'upstream-modified'} as const;

function fileHeaders(relative: string) {
	const name = relative.slice(relative.lastIndexOf('/') + 1);
	return {contentType: contentTypeFor(name), cacheControl: cacheControlFor(classifyPath(relative))};
}

/** The sync target for `location`, after checking the bucket can be used. */
export async function openS3Target(
	location: S3Location,
	lease: LeaseOptions = defaultLeaseOptions,
): Promise<SyncTarget> {
	const store: S3Store = createS3Store(location);
	try {
		await store.checkAccess();
	} catch (error) {
		store.close();
		throw error;
	}

	// Partial downloads resume across runs on the same machine, per bucket and prefix.
	const id = createHash('sha256').update(store.label).digest('hex').slice(0, 12);
	const tmp = path.join(os.tmpdir(), 'artifact-mirror', `${location.bucket}-${id}`);
	let held: Awaited<ReturnType<typeof acquireLease>> | undefined;
	const assertHeld = () => held?.assertHeld();

	return {
		label: store.label,
		tmp,
		async inspect(wanted) {
			// One listing of the tree instead of three HEADs per artifact.
			const sizes = new Map<string, number>();
			const folders = new Set(wanted.map((ref) => ref.path.slice(0, ref.path.lastIndexOf('/') + 1)));
			for (const folder of folders) {
				for await (const object of store.list(folder)) {
					sizes.set(object.key, object.size);
				}
			}

			return new Map(
				wanted.map((ref) => [
					ref.path,
					{
						size: sizes.get(ref.path),
						sidecars: sizes.has(`${ref.path}.sha512`) && sizes.has(`${ref.path}.asc`),
					},
				]),
			);
		},
		async readManifest() {
			const found = await store.getBytes(s3State.manifest);
			return found && found !== 'not-modified'
				? parseManifest(found.body.toString('utf8'), `${store.label}/${s3State.manifest}`)
				: {manifest: emptyManifest()};
		},
		async writeManifest(manifest) {
			assertHeld();
			await store.putBytes(s3State.manifest, serializeManifest(manifest), {
				contentType: 'application/json; charset=utf-8',
				cacheControl: 'no-cache',
			});
		},
		async lock(warn) {
			await mkdir(tmp, {recursive: true});
			held = await acquireLease(store, s3State.lock, {
				...lease,
				onTakeover(previous) {
					warn(
						`took over the expired sync lock of host ${previous.host}, pid ${previous.pid} (lease ended ${previous.expiresAt})`,
					);
				},
			});
			const current = held;
			return {
				async release() {
					await current.release();
				},
			};
		},
		async publishArtifact(artifact) {
			const relative = artifact.ref.path;
			const modified: Record<string, string> = artifact.modified
				? {[metadataKeys.modified]: artifact.modified.toISOString()}
				: {};
			assertHeld();
			if (artifact.replacing) {
				// Old bytes must never sit next to new sidecars.
				await store.remove(relative);
			}

			for (const [extension, data] of [
				['.sha512', artifact.sha512Sidecar],
				['.asc', artifact.ascSidecar],
			] as const) {
				await store.putBytes(`${relative}${extension}`, data, {
					...fileHeaders(`${relative}${extension}`),
					metadata: modified,
				});
			}

			assertHeld();
			await store.putFile(relative, artifact.partPath, {
				...fileHeaders(relative),
				metadata: {...modified, [metadataKeys.sha512]: artifact.sha512},
			});
			await rm(artifact.partPath, {force: true});
		},
		async readRootFile(name) {
			const found = await store.getBytes(name);
			return found && found !== 'not-modified' ? found.body : undefined;
		},
		async publishRootFile(name, data) {
			assertHeld();
			await store.putBytes(name, data, fileHeaders(name));
		},
		async recordRun(run) {
			const found = await store.getBytes(s3State.status);
			const status = parseStatus(found && found !== 'not-modified' ? found.body.toString('utf8') : undefined);
			await store.putBytes(s3State.status, serializeStatus(withRun(status, run)), {
				contentType: 'application/json; charset=utf-8',
				cacheControl: 'no-cache',
			});
		},
		localPath: () => undefined,
		close() {
			store.close();
		},
	};
}
