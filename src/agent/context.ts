/**
What the workers of one sync run share, and how one file's failure is told apart
from a failure that ends the run.
*/
import {rm} from 'node:fs/promises';
import {describeError, MirrorError, UpstreamError} from '../errors.js';
import type {EventSink, Failure} from '../mirror/events.js';
import type {MirrorWriter} from '../mirror/writer.js';
import {redactText} from '../redact.js';
import type {MirrorStore} from '../store/store.js';
import type {TrustedKeys} from '../trust/keys.js';
import type {HttpClient} from '../upstream/types.js';

/** What became of one file of the run. */
export type Outcome = 'published' | 'present' | 'not-published' | 'failed';

/** Failures that end the whole run: every other file would fail the same way. */
export const runFatalCodes = new Set(['ERR_UNREACHABLE', 'ERR_TLS']);

/** Sync state shared by the workers of one run. */
export type RunContext = {
	/** Upstream root, e.g. https://artifacts.elastic.co (no trailing slash needed). */
	readonly upstream: string;
	readonly store: MirrorStore;
	readonly writer: MirrorWriter;
	readonly client: HttpClient;
	readonly trusted: TrustedKeys;
	readonly emit: EventSink;
	readonly failures: Failure[];
	/** Set when the run must end (the upstream cannot be reached): files not begun are skipped. */
	stop?: MirrorError | undefined;
	/** Throws once the run's lock is gone: checked before each write of a download. */
	readonly assertHeld?: (() => void) | undefined;
	bytes: number;
};

/** The URL of a tree path under an upstream root. */
export function joinUrl(root: string, relative: string): string {
	return `${root.replace(/\/+$/, '')}/${relative}`;
}

/**
Count a file as failed and say why. A lost lock is thrown (the run stops at once);
an unreachable upstream stops the run with one line, not one per file.
*/
export function fail(context: RunContext, filePath: string, error: unknown): Outcome {
	if (error instanceof MirrorError && error.code === 'ERR_LOCK_LOST') {
		// Another sync owns the store now: this run stops at once and writes nothing more.
		throw error;
	}

	if (error instanceof MirrorError && runFatalCodes.has(error.code)) {
		// One line for the run, not one per file: files in flight end, the rest never start.
		context.stop ??= error;
		return 'failed';
	}

	const failure = {
		path: filePath,
		reason: redactText(describeError(error)),
		code: error instanceof MirrorError ? error.code : 'ERR_INTERNAL',
	};
	context.failures.push(failure);
	context.emit({type: 'failed', ...failure});
	return 'failed';
}

/** A download published: its resume record goes, and the run hears of it. */
export async function published(
	context: RunContext,
	filePath: string,
	metaPath: string,
	result: {size: number; sha512: string; resumedFrom: number},
): Promise<Outcome> {
	await rm(metaPath, {force: true});
	context.emit({
		type: 'published',
		path: filePath,
		size: result.size,
		sha512: result.sha512,
		resumedFrom: result.resumedFrom,
	});
	return 'published';
}

/**
A download that failed: bad bytes and unwritable temp entries are thrown away; a
transfer that merely broke off is kept to resume. Once the lock is lost nothing is
touched: the temp files may be the next holder's by now.
*/
export async function downloadFailed(
	context: RunContext,
	filePath: string,
	error: unknown,
	discardPart: () => Promise<unknown>,
): Promise<Outcome> {
	const lockLost = error instanceof MirrorError && error.code === 'ERR_LOCK_LOST';
	if (!lockLost && (!(error instanceof UpstreamError) || error.code === 'ERR_LOCAL_IO')) {
		await discardPart();
	}

	return fail(context, filePath, error);
}
