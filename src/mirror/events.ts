/**
What a sync run reports while it works. The CLI turns these into progress bars or
JSON lines; tests collect them.
*/
import type {Action} from '../agent/plan.js';

/** A file that did not make it, and why. */
export type Failure = {readonly path: string; readonly reason: string; readonly code: string};

/** What a run did with Elastic Defend protections, when they were selected. */
export type DefendSummary = {
	/** Versions selected, and how many of them the mirror held a manifest for before the run. */
	readonly versions: number;
	readonly held: number;
	/** Versions whose new manifest was published, confirmed as held, or left as they were after a failure. */
	readonly updated: number;
	readonly unchanged: number;
	readonly failed: number;
	/** Artifacts downloaded and published, and those named by a new manifest that the mirror already held. */
	readonly artifacts: {readonly published: number; readonly present: number};
};

/** What a run did with container images, when they were selected. */
export type ImagesSummary = {
	/** Tags selected (repository and tag pairs). */
	readonly tags: number;
	/** Tags newly set or moved, confirmed as held, skipped (no selected platform), or failed. */
	readonly updated: number;
	readonly unchanged: number;
	readonly skipped: number;
	readonly failed: number;
	/** Blobs published (layers, configs, manifests and indexes), and layers and configs the mirror held already. */
	readonly blobs: {readonly published: number; readonly present: number};
};

/** The end of a run. */
export type Summary = {
	readonly result: 'success' | 'failed';
	readonly dryRun: boolean;
	readonly versions: string[];
	readonly published: number;
	readonly present: number;
	readonly notPublished: number;
	/** Key files (GPG-KEY-*), not counted in `published` and `present`. */
	readonly keys: {readonly published: number; readonly present: number};
	/** Integration package versions, when packages were selected; counted apart from artifacts. */
	readonly packages?:
		| {readonly published: number; readonly present: number; readonly failed: number}
		| undefined;
	/** Elastic Defend versions and artifacts, when Defend was selected; counted apart from artifacts. */
	readonly defend?: DefendSummary | undefined;
	/** Container image tags and blobs, when images were selected; counted apart from artifacts. */
	readonly images?: ImagesSummary | undefined;
	/** Every failure, artifacts and package versions alike (a package version's path is its zip's). */
	readonly failed: Failure[];
	readonly warnings: string[];
	/** Artifact bytes downloaded by this run. */
	readonly bytes: number;
	readonly durationMs: number;
	/** Upstream requests by method. */
	readonly requests: {readonly get: number; readonly head: number};
};

/** Every event a run emits. */
export type SyncEvent =
	| {
			type: 'start';
			dir: string;
			upstream: string;
			versions: string[];
			files: number;
			/** The version list asked, when ranges or `latest` needed one. */
			versionsApi?: string | undefined;
			/** Why the upstream's own version list was not used, when it was tried first. */
			versionsApiNote?: string | undefined;
			/** The package versions selected, when packages are. */
			packages?: {registry: string; kibanaVersions: string[]; versions: number} | undefined;
			/** The Defend versions selected and their host, when Defend is. */
			defend?: {upstream: string; versions: string[]} | undefined;
			/** The source registry and the tags selected, when images are. */
			images?: {registry: string; tags: string[]} | undefined;
	  }
	| {type: 'plan'; action: Action['kind']; path: string; reason: string}
	| {type: 'download'; path: string; total: number | undefined; resumedFrom: number}
	| {type: 'progress'; path: string; bytes: number; total: number | undefined}
	| {
			type: 'retry';
			path: string;
			url: string;
			attempt: number;
			retries: number;
			delayMs: number;
			reason: string;
	  }
	| {type: 'published'; path: string; size: number; sha512: string; resumedFrom: number}
	| {type: 'present'; path: string; reason: string}
	| {type: 'not-published'; path: string}
	| {type: 'failed'; path: string; reason: string; code: string}
	| {type: 'warning'; message: string}
	| {type: 'summary'; summary: Summary};

/** Receives events. */
export type EventSink = (event: SyncEvent) => void;
