/**
The mirror in an object store. A PUT is atomic for readers, so publishing needs no
rename: each file is verified whole in a local temp folder first, then uploaded,
sidecars before their artifact, and the manifest that servers index by is written
after the files it lists. The store's own state (manifest, status, lock, export
state, quarantine) lives under `<prefix>/.mirror/`, which the server never serves;
nothing temporary is ever written to the bucket (an unfinished multipart upload is
invisible).
*/
import {createHash} from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type {Readable} from 'node:stream';
import {MirrorError} from '../../errors.js';
import {stateFolder} from '../layout.js';
import {emptyManifest, parseManifest, serializeManifest} from '../manifest.js';
import {makePrivateDir} from '../modes.js';
import {parseStatus, serializeStatus, withRun} from '../status.js';
import type {LeaseTiming, MirrorStore} from '../store.js';
import {createS3Store, type S3Store} from './client.js';
import {metadataKeys, s3State} from './keys.js';
import {assertNoLease, defaultLeaseOptions} from './lease.js';
import type {S3Location} from './location.js';
import {lockS3, type S3Lock} from './lock.js';
import {publishArtifact, publishFiles, publishRootFile} from './publish.js';

const jsonHeaders = {contentType: 'application/json; charset=utf-8', cacheControl: 'no-cache'};

/** The bucket and prefix of `location` as a target of sync and the day-2 commands, after checking the bucket can be used. */
export async function openS3Mirror(
	location: S3Location,
	lease: LeaseTiming = defaultLeaseOptions,
): Promise<MirrorStore> {
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
	let held: S3Lock | undefined;
	const assertHeld = () => held?.lease.assertHeld();
	// Every write is a whole step through the lock's gate, so that release waits for it and refuses the next.
	const step = <T>(write: () => Promise<T>): Promise<T> => (held ? held.gate.run(write) : write());
	const readBody = async (relative: string) => {
		const found = await store.getBytes(relative);
		return found && found !== 'not-modified' ? found.body : undefined;
	};

	return {
		label: store.label,
		backend: {kind: 's3', bucket: store},
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
			const body = await readBody(s3State.manifest);
			return body
				? parseManifest(body.toString('utf8'), `${store.label}/${s3State.manifest}`)
				: {manifest: emptyManifest()};
		},
		writeManifest: (manifest) =>
			step(async () => {
				await store.putBytes(s3State.manifest, serializeManifest(manifest), jsonHeaders);
			}),
		async lock(warn) {
			await makePrivateDir(tmp);
			held = await lockS3(store, s3State.lock, tmp, lease, warn);
			return held.lock;
		},
		assertUnlocked: () => assertNoLease(store, s3State.lock, lease),
		publishArtifact: (artifact) => step(() => publishArtifact(store, artifact, assertHeld)),
		publishFiles: (files) => step(() => publishFiles(store, files, assertHeld)),
		publishRootFile: (name, data) => step(() => publishRootFile(store, name, data)),
		readFile: readBody,
		async stat(relative) {
			const info = await store.head(relative);
			if (!info) {
				return undefined;
			}

			const upstream = Date.parse(info.metadata[metadataKeys.modified] ?? '');
			return {size: info.size, modified: Number.isNaN(upstream) ? info.lastModified : new Date(upstream)};
		},
		async openRead(relative) {
			const found = await store.getStream(relative);
			if (!found) {
				throw new MirrorError('ERR_MISSING', `${relative} is not in ${store.label}`);
			}

			return found.body as unknown as Readable;
		},
		async *listTree() {
			for await (const object of store.list('')) {
				if (!object.key.startsWith(`${stateFolder}/`)) {
					yield {path: object.key, kind: 'file' as const};
				}
			}
		},
		remove: (relative) => step(() => store.remove(relative)),
		quarantine(stamp) {
			const folder = `${s3State.quarantine}/${stamp}`;
			return {
				where: `${store.label}/${folder}`,
				move: (relative) =>
					step(async () => {
						if (await store.head(relative)) {
							// Copied under the hidden state folder, then removed from the tree.
							await store.copy(relative, `${folder}/${relative}`);
							await store.remove(relative);
						}
					}),
				discard: (relative) => store.remove(`${folder}/${relative}`),
			};
		},
		async readState(name) {
			return (await readBody(`${stateFolder}/${name}`))?.toString('utf8');
		},
		writeState: (name, text) =>
			step(async () => {
				await store.putBytes(`${stateFolder}/${name}`, text, jsonHeaders);
			}),
		recordRun: (run) =>
			step(async () => {
				const body = await readBody(s3State.status);
				await store.putBytes(
					s3State.status,
					serializeStatus(withRun(parseStatus(body?.toString('utf8')), run)),
					jsonHeaders,
				);
			}),
		local: false,
		close() {
			store.close();
		},
	};
}
