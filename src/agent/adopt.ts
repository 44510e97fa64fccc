/**
An artifact the store holds with both sidecars but its manifest does not list (a
killed run, or files copied in by hand): verified where it is and listed, or
downloaded again when it does not verify or reading it back would be a transfer.
*/
import {describeError, MirrorError} from '../errors.js';
import {verifyArtifact} from '../trust/verify-artifact.js';
import type {ArtifactRef} from './catalog.js';
import type {Outcome, RunContext} from './context.js';
import {fetchArtifact} from './fetch.js';

/** Verify a triple that is in the store but not in the manifest, and list it when good. */
export async function adopt(context: RunContext, ref: ArtifactRef): Promise<Outcome> {
	const {store} = context;
	if (!store.local) {
		// An object store's objects would have to be downloaded to verify: fetch instead.
		context.emit({
			type: 'warning',
			message: `${ref.path} is in the store but not in its manifest; downloading it again`,
		});
		return fetchArtifact(context, ref, true);
	}

	try {
		const [sidecar, asc, info] = await Promise.all([
			store.readFile(`${ref.path}.sha512`),
			store.readFile(`${ref.path}.asc`),
			store.stat(ref.path),
		]);
		if (!info) {
			throw new MirrorError('ERR_MISSING', `${ref.path} is not in ${store.label}`);
		}

		const {sha512} = await verifyArtifact(
			{
				fileName: ref.fileName,
				sha512Sidecar: sidecar?.toString('utf8'),
				ascSidecar: asc?.toString('utf8'),
				source: () => store.openRead(ref.path),
			},
			context.trusted,
		);
		context.writer.recordArtifact(ref, {size: info.size, sha512, publishedAt: info.modified});
		context.emit({type: 'present', path: ref.path, reason: 'on disk and verified'});
		return 'present';
	} catch (error) {
		context.emit({
			type: 'warning',
			message: `${ref.path} is on disk but does not verify (${describeError(error)}); downloading it again`,
		});
		return fetchArtifact(context, ref, true);
	}
}
