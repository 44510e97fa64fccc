/**
One Defend version of a run: its manifest zip asked for (conditionally when one is
held), read and checked, the artifacts it names that the mirror does not hold
fetched, and only when every one of them is published, the manifest zip itself,
byte-identical. A version any of whose artifacts fails keeps serving its previous
manifest (or none).
*/
import {createHash} from 'node:crypto';
import {rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fail, joinUrl, type Outcome, type RunContext} from '../agent/context.js';
import {DefendError, NotFoundError, UpstreamError} from '../errors.js';
import {tempName} from '../store/layout.js';
import type {Conditional, RetryEvent} from '../upstream/types.js';
import type {DefendArtifactRef, DefendManifest} from './catalog.js';
import type {DefendAction} from './plan.js';
import {readDefendManifestZip} from './verify.js';

/** Manifest zips are kilobytes; this only bounds a host that sends something else. */
const manifestMaxBytes = 64 * 1024 * 1024;

/** What became of one version: a new manifest published, the held one confirmed, or neither. */
export type VersionOutcome = {
	readonly result: 'updated' | 'unchanged' | 'failed';
	/** Tree paths of the artifacts its manifest names, when a new manifest was read. */
	readonly named: readonly string[];
};

/** Fetches an artifact once however many versions name it (phase.ts shares them). */
export type ArtifactFetcher = (ref: DefendArtifactRef, version: string) => Promise<Outcome>;

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/** Read the manifest zip from bytes in memory (the zip reader wants a file). */
async function readManifest(
	context: RunContext,
	action: DefendAction,
	body: Buffer,
): Promise<DefendManifest> {
	const file = path.join(context.store.tmp, `${tempName(action.path)}.manifest`);
	context.assertHeld?.();
	await writeFile(file, body);
	try {
		return await readDefendManifestZip(file, `the manifest of Defend ${action.version}`);
	} finally {
		await rm(file, {force: true}).catch(() => undefined);
	}
}

/** A listed artifact at this path with other digests than the manifest gives: immutable, so refused. */
function conflict(context: RunContext, ref: DefendArtifactRef): DefendError | undefined {
	const held = context.writer.manifest.defend.artifacts[ref.path];
	if (!held || (held.encodedSha256 === ref.encodedSha256 && held.decodedSha256 === ref.decodedSha256)) {
		return undefined;
	}

	return new DefendError(
		`${ref.path}: the manifest gives encoded_sha256 ${ref.encodedSha256}, but the mirror holds this path with ${held.encodedSha256}; an artifact named once does not change`,
	);
}

/** A failed manifest GET in Defend's words: a 404 names the version, an unreachable host the flag that names it. */
function explain(error: unknown, upstream: string, version: string): unknown {
	if (error instanceof NotFoundError) {
		return new DefendError(
			`${upstream} has no manifest for Elastic Defend ${version} (404); is the version right?`,
		);
	}

	if (error instanceof UpstreamError && error.code === 'ERR_UNREACHABLE') {
		const message = error.message.replace('check --upstream and --versions-api', 'check --defend-upstream');
		return new UpstreamError(error.url, message, {retryable: false, code: error.code, cause: error});
	}

	return error;
}

/** Sync one version's manifest and the artifacts it names. */
export async function syncDefendVersion(
	context: RunContext,
	upstream: string,
	action: DefendAction,
	fetchArtifact: ArtifactFetcher,
): Promise<VersionOutcome> {
	const failed: VersionOutcome = {result: 'failed', named: []};
	const held = action.kind === 'refresh' ? action.held : undefined;
	const conditional: Conditional | undefined = held && {
		etag: held.etag,
		modifiedSince: held.upstreamModified ? new Date(held.upstreamModified) : undefined,
	};
	const onRetry = (event: RetryEvent) => context.emit({type: 'retry', path: action.path, ...event});
	let response: Awaited<ReturnType<RunContext['client']['fetch']>>;
	try {
		response = await context.client.fetch(joinUrl(upstream, action.path), {
			maxBytes: manifestMaxBytes,
			onRetry,
			conditional,
		});
	} catch (error) {
		fail(context, action.path, explain(error, upstream, action.version));
		return failed;
	}

	const now = new Date();
	const validators = {
		...(response.etag ? {etag: response.etag} : {}),
		...(response.lastModified ? {upstreamModified: response.lastModified.toISOString()} : {}),
	};
	const digest = response.notModified ? undefined : sha512(response.body);
	if (held && (response.notModified || digest === held.sha512)) {
		context.writer.refreshDefendVersion(action.version, now, validators);
		context.emit({
			type: 'present',
			path: action.path,
			reason: `manifest_version ${held.manifestVersion} unchanged upstream${response.notModified ? ' (304)' : ''}`,
		});
		return {result: 'unchanged', named: []};
	}

	let manifest: DefendManifest;
	try {
		if (response.notModified) {
			throw new DefendError(`${upstream} answered 304 to a GET that held nothing to compare`);
		}

		manifest = await readManifest(context, action, response.body);
	} catch (error) {
		fail(context, action.path, error);
		return failed;
	}

	const names = [...new Map(manifest.artifacts.map((ref) => [ref.path, ref])).values()];
	const named = names.map((ref) => ref.path);
	const outcomes = await Promise.all(
		names.map((ref) => {
			const clash = conflict(context, ref);
			if (clash) {
				return Promise.resolve(fail(context, ref.path, clash));
			}

			if (context.writer.manifest.defend.artifacts[ref.path]) {
				return Promise.resolve<Outcome>('present');
			}

			return fetchArtifact(ref, action.version);
		}),
	);
	const bad = outcomes.filter((outcome) => outcome !== 'published' && outcome !== 'present').length;
	if (context.stop) {
		return {result: 'failed', named};
	}

	if (bad > 0) {
		const kept = held
			? `manifest_version ${held.manifestVersion} stays served`
			: 'nothing is served for this version';
		fail(
			context,
			action.path,
			new DefendError(
				`manifest_version ${manifest.manifestVersion} not published: ${bad} of ${names.length} artifacts it names did not verify or download; ${kept}`,
			),
		);
		return {result: 'failed', named};
	}

	try {
		await context.writer.publishDefendManifest(
			{relative: action.path, from: {data: response.body}, modified: response.lastModified, sha512: digest},
			{
				version: action.version,
				path: action.path,
				size: response.body.length,
				sha512: digest as string,
				manifestVersion: manifest.manifestVersion,
				schemaVersion: manifest.schemaVersion,
				artifacts: named,
				...validators,
				refreshedAt: now.toISOString(),
			},
		);
	} catch (error) {
		fail(context, action.path, error);
		return {result: 'failed', named};
	}

	context.emit({
		type: 'published',
		path: action.path,
		size: response.body.length,
		sha512: digest as string,
		resumedFrom: 0,
	});
	return {result: 'updated', named};
}
