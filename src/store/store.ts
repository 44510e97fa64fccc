/**
The mirror store: what "present", "read", "publish", "remove", "lock" and "record"
mean, whatever the backend. A directory (store/dir/) and an object store (store/s3/)
implement it; store/open.ts picks one from a StoreLocation. Sync, import, export,
verify and prune only plan, download, check and bundle. Downloads and imports always
land in the store's local temp folder first, so that nothing reaches a reader before
it is verified whole. Types only: every backend and caller imports this, and it
imports no code.
*/
import type {Readable} from 'node:stream';
import type {ArtifactRef} from '../agent/catalog.js';
import type {LocalFile} from '../agent/plan.js';
import type {Layout} from './layout.js';
import type {StoreLocation} from './location.js';
import type {Manifest} from './manifest.js';
import type {S3Store} from './s3/client.js';
import type {RunRecord} from './status.js';

/** What the store says about one published file. */
export type StoredFile = {
	readonly size: number;
	/** Upstream's Last-Modified where it was kept, else when the store got the file. */
	readonly modified: Date;
};

/** One entry of the served tree: a regular file, a symbolic link, or anything else (a FIFO, a socket). */
export type TreeEntry = {
	/** The tree path, `/`-separated (`downloads/...`). */
	readonly path: string;
	readonly kind: 'file' | 'link' | 'other';
};

/** The verified pieces of one artifact, ready to publish. */
export type VerifiedArtifact = {
	readonly ref: ArtifactRef;
	/** The downloaded artifact, already in the store's local temp folder. */
	readonly partPath: string;
	/** Its sha512, verified. */
	readonly sha512: string;
	readonly sha512Sidecar: Uint8Array;
	readonly ascSidecar: Uint8Array;
	/** Upstream's Last-Modified, kept as the files' date so that served dates match upstream. */
	readonly modified: Date | undefined;
	/** Whether an earlier copy is in the tree and is being replaced. */
	readonly replacing: boolean;
};

/** One verified file to publish: its tree path and its bytes, in memory or in the store's local temp folder. */
export type PublishedFile = {
	readonly relative: string;
	/** A file in the store's local temp folder (moved or uploaded, then gone), or the bytes themselves. */
	readonly from: {readonly partPath: string} | {readonly data: Uint8Array};
	/** Upstream's Last-Modified, kept as the file's date. */
	readonly modified?: Date | undefined;
	/** The file's sha512, kept with it where the backend keeps one (object metadata). */
	readonly sha512?: string | undefined;
};

/** Files moved out of the served tree, kept apart for a person to look at. */
export type Quarantine = {
	/** Where they go, as a user would look for them (a folder, or an s3:// prefix). */
	readonly where: string;
	/** Move one file (a tree path) there; a file already gone is skipped. */
	readonly move: (relative: string) => Promise<void>;
	/** Forget a moved file (it was fetched again). */
	readonly discard: (relative: string) => Promise<void>;
};

/** The lock a store gives its writer. */
export type HeldLock = {
	/** Throw ERR_LOCK_LOST once this process may no longer write (released, lost, or its lease ran out). */
	assertHeld(): void;
	release(): Promise<void>;
};

/** Timing of the sync lock's lease, the same for both backends (tests shorten it). */
export type LeaseTiming = {
	/** How long a lease lasts without renewal. */
	readonly ttlMs: number;
	/** How often the holder renews it; well under ttlMs. */
	readonly renewEveryMs: number;
};

/** The read side of a store: what the server, export and verify look at. Paths are tree paths (`downloads/...`). */
export type StoreReader = {
	/** The mirror as users name it: a directory or `s3://bucket/prefix`. */
	readonly label: string;
	/** Size and date of a file, or undefined when missing. */
	readonly stat: (relative: string) => Promise<StoredFile | undefined>;
	/** A whole small file (sidecar, key), or undefined when missing. */
	readonly readFile: (relative: string) => Promise<Buffer | undefined>;
	/** One version of a file's bytes as a stream; throws ERR_MISSING when it is not there. */
	readonly openRead: (relative: string) => Promise<Readable>;
	/** Every file of the served tree (`.mirror/` left out), links reported and not followed. */
	readonly listTree: () => AsyncIterable<TreeEntry>;
	readonly readManifest: () => Promise<{manifest: Manifest; warning?: string}>;
	/** A small JSON document of the mirror's own state (`export.json`), or undefined. */
	readonly readState: (name: 'export.json') => Promise<string | undefined>;
};

/**
The write side of a store: lock, publish in order, remove, quarantine, record. Once
the lock is taken, every write passes through its gate: none starts after release.
*/
export type StoreWriter = {
	/**
	Take the store's sync lock (LockHeldError when held); `warn` hears of a dead holder's
	lock taken over. Staging left by a killed import is removed once the lock is held.
	*/
	readonly lock: (warn: (message: string) => void) => Promise<HeldLock>;
	/**
	For commands that only read: LockHeldError while a live holder has the lock; takes
	nothing. Resolves with a line about a dead holder's lock, if one is left.
	*/
	readonly assertUnlocked: () => Promise<string | undefined>;
	/** Publish a verified artifact: sidecars first, the artifact last. */
	readonly publishArtifact: (artifact: VerifiedArtifact) => Promise<void>;
	/**
	Publish verified files in the order given, each one whole or not at all, so a
	reader sees a file only after those before it (the metadata that makes a package
	visible goes last). A file already there is replaced.
	*/
	readonly publishFiles: (files: readonly PublishedFile[]) => Promise<void>;
	/** Publish one small file at the root of the tree (a signing key). */
	readonly publishRootFile: (name: string, data: Uint8Array) => Promise<void>;
	/** Delete a file (or a link) from the tree; a missing file is not an error. */
	readonly remove: (relative: string) => Promise<void>;
	/** A quarantine named `stamp` (a timestamp), out of the served tree. */
	readonly quarantine: (stamp: string) => Quarantine;
	/** Replace the manifest; written after the files it lists. */
	readonly writeManifest: (manifest: Manifest) => Promise<void>;
	readonly writeState: (name: 'export.json', text: string) => Promise<void>;
	/** Add a run to the status that the server shows. */
	readonly recordRun: (run: RunRecord) => Promise<void>;
	/** What the store holds for each wanted artifact, for planning what to write. */
	readonly inspect: (wanted: readonly ArtifactRef[]) => Promise<Map<string, LocalFile>>;
};

/** One mirror store, as sync, import, export, verify and prune see it: both sides, and a local staging folder. */
export type MirrorStore = StoreReader &
	StoreWriter & {
		/** A local folder for partial downloads and staging, kept between runs so that downloads resume. */
		readonly tmp: string;
		/**
		Whether reading a file back costs what reading a local file does (a directory), or
		is a transfer (an object store): sync verifies a stray artifact in place only when
		true, and downloads it again otherwise.
		*/
		readonly local: boolean;
		/**
		The backend itself, for the server's read paths that depend on it (file descriptors
		and sendfile-like pumps for a directory; shared blocks and presigned redirects for
		an object store). Commands never look at it.
		*/
		readonly backend: StoreBackend;
		readonly close: () => void;
	};

/** What a store is underneath: a mirror directory's layout, or the S3 client of a bucket and prefix. */
export type StoreBackend =
	| {readonly kind: 'dir'; readonly layout: Layout}
	| {readonly kind: 's3'; readonly bucket: S3Store};

/** Which mirror to open, and how. */
export type StoreOptions = {
	readonly location: StoreLocation;
	/** Lease timing of the store's sync lock (tests shorten it). */
	readonly lease?: LeaseTiming | undefined;
};
