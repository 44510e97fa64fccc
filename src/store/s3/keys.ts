/** Where the mirror keeps its own state in a bucket, and the metadata it attaches to objects. */
import {stateFolder} from '../layout.js';

/** Keys of the mirror's own state, relative to the prefix; the server never serves them. */
export const s3State = {
	manifest: `${stateFolder}/manifest.json`,
	status: `${stateFolder}/status.json`,
	lock: `${stateFolder}/sync.lock`,
	quarantine: `${stateFolder}/quarantine`,
} as const;

/** Object metadata the server reads back: the artifact's sha512 and upstream date. */
export const metadataKeys = {sha512: 'sha512', modified: 'upstream-modified'} as const;
