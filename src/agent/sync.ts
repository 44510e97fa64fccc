/**
One sync run: resolve versions, plan, then fetch, verify and publish under the lock,
and record the result. The only module that sequences the others.
*/
import {createHash} from 'node:crypto';
import {readFile, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type {SyncOptions} from '../config/types.js';
import {describeError, MirrorError, NotFoundError, SidecarError, UpstreamError} from '../errors.js';
import type {EventSink, Failure, Summary} from '../mirror/events.js';
import {redactText} from '../redact.js';
import {removeStalePartials} from '../store/abandoned.js';
import {tempName} from '../store/layout.js';
import {type Manifest, manifestEntry} from '../store/manifest.js';
import {makeDir, privateDirMode} from '../store/modes.js';
import {openStore} from '../store/open.js';
import type {RunFailure} from '../store/status.js';
import type {MirrorStore} from '../store/store.js';
import {
	checkKeyFile,
	checkSha512,
	checkSignature,
	loadTrustedKeys,
	parseSha512Sidecar,
	prepareSignature,
	type TrustedKeys,
	verifySignature,
} from '../trust/verify.js';
import {createHttpClient, type HttpClient, type RetryEvent} from '../upstream/client.js';
import {needsVersionList, parseVersionList, resolveVersions} from '../versions.js';
import {type ArtifactRef, keyFiles, wantedArtifacts} from './catalog.js';
import {type Action, plan} from './plan.js';

export type {SyncOptions};

type Outcome = 'published' | 'present' | 'not-published' | 'failed';

const sidecarMaxBytes = 64 * 1024;
const keyMaxBytes = 1024 * 1024;
const versionsMaxBytes = 32 * 1024 * 1024;

function joinUrl(root: string, relative: string): string {
	return `${root.replace(/\/+$/, '')}/${relative}`;
}

/** Failures that end the whole run: every other file would fail the same way. */
const runFatalCodes = new Set(['ERR_UNREACHABLE', 'ERR_TLS']);

/** Failures as status.json keeps them; reasons are redacted where they are made, and again here whatever made them. */
function recordedFailures(failures: readonly Failure[]): RunFailure[] {
	return failures.map(({path: file, reason, code}) => ({path: file, reason: redactText(reason), code}));
}

/** A version list and where it came from. */
type VersionList = {available: string[]; api: string; note?: string | undefined};

/** Fetch and parse one versions API. */
async function fetchVersionList(client: HttpClient, url: string): Promise<string[]> {
	const {body} = await client.fetch(url, {maxBytes: versionsMaxBytes});
	try {
		return parseVersionList(body.toString('utf8'));
	} catch (error) {
		const shown = redactText(url);
		throw new UpstreamError(shown, `${(error as Error).message} (${shown})`, {
			retryable: false,
			cause: error,
		});
	}
}

/**
The versions the upstream offers: from the upstream itself when it is a mirror that
answers `/v1/versions`, else from the versions API.
*/
async function listVersions(options: SyncOptions, client: HttpClient): Promise<VersionList> {
	let note: string | undefined;
	if (options.upstreamVersionsApi) {
		try {
			return {
				available: await fetchVersionList(client, options.upstreamVersionsApi),
				api: options.upstreamVersionsApi,
			};
		} catch (error) {
			// An upstream that cannot be reached cannot be synced from either.
			if (error instanceof MirrorError && runFatalCodes.has(error.code)) {
				throw error;
			}

			note = `${redactText(options.upstreamVersionsApi)} did not answer a version list: ${redactText(describeError(error))}`;
		}
	}

	return {available: await fetchVersionList(client, options.versionsApi), api: options.versionsApi, note};
}

/** Resolve the version specs, asking for the version list only when a range or `latest` needs it. */
async function resolve(
	options: SyncOptions,
	client: HttpClient,
	emit: EventSink,
): Promise<{versions: string[]; warnings: string[]; list?: VersionList | undefined}> {
	const list = needsVersionList(options.versions) ? await listVersions(options, client) : undefined;
	const resolution = resolveVersions(options.versions, list?.available ?? []);
	for (const message of resolution.warnings) {
		emit({type: 'warning', message});
	}

	return {...resolution, list};
}

/** Sync state shared by the workers of one run. */
type RunContext = {
	readonly options: SyncOptions;
	readonly target: MirrorStore;
	readonly client: HttpClient;
	readonly trusted: TrustedKeys;
	readonly manifest: Manifest;
	readonly emit: EventSink;
	readonly failures: Failure[];
	/** Set when the run must end (the upstream cannot be reached): files not begun are skipped. */
	stop?: MirrorError | undefined;
	/** Throws once the run's lock is gone: checked before each write of a download. */
	readonly assertHeld?: (() => void) | undefined;
	bytes: number;
	saveSoon(): void;
};

function fail(context: RunContext, filePath: string, error: unknown): Outcome {
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

/** Enter a published artifact in the manifest. */
function record(
	context: RunContext,
	ref: ArtifactRef,
	facts: {size: number; sha512: string; publishedAt: Date; upstreamModified?: Date | undefined},
): void {
	context.manifest.files[ref.path] = manifestEntry(ref, facts);
	context.saveSoon();
}

type Sidecars = {sha512: Buffer; asc: Buffer; expected: string};

/** Fetch both sidecars; undefined when the artifact is not published at all. */
async function fetchSidecars(
	context: RunContext,
	ref: ArtifactRef,
	url: string,
): Promise<Sidecars | undefined> {
	const onRetry = (event: RetryEvent) => {
		context.emit({type: 'retry', path: ref.path, ...event});
	};

	let sha512: Buffer;
	try {
		sha512 = (await context.client.fetch(`${url}.sha512`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (!(error instanceof NotFoundError)) {
			throw error;
		}

		if (!(await context.client.exists(url))) {
			return undefined;
		}

		throw new SidecarError(`${ref.fileName}.sha512 is missing upstream (the artifact itself exists)`);
	}

	const expected = parseSha512Sidecar(sha512.toString('utf8'), ref.fileName);
	let asc: Buffer;
	try {
		asc = (await context.client.fetch(`${url}.asc`, {maxBytes: sidecarMaxBytes, onRetry})).body;
	} catch (error) {
		if (error instanceof NotFoundError) {
			throw new SidecarError(`${ref.fileName}.asc is missing upstream`);
		}

		throw error;
	}

	return {sha512, asc, expected};
}

async function fetchArtifact(
	context: RunContext,
	ref: ArtifactRef,
	replacing: boolean,
	knownSha512?: string,
): Promise<Outcome> {
	const url = joinUrl(context.options.upstream, ref.path);
	const base = path.join(context.target.tmp, tempName(ref.path));
	const partPath = `${base}.part`;
	const metaPath = `${base}.part.json`;
	// Clean-up only: it must not fail the run, and it clears whatever blocks the next one
	// (a folder where the partial file goes).
	const discardPart = () =>
		Promise.all(
			[partPath, metaPath].map((file) => rm(file, {force: true, recursive: true}).catch(() => undefined)),
		);

	try {
		const sidecars = await fetchSidecars(context, ref, url);
		if (!sidecars) {
			context.emit({type: 'not-published', path: ref.path});
			return 'not-published';
		}

		if (knownSha512 === sidecars.expected) {
			context.emit({type: 'present', path: ref.path, reason: 'unchanged upstream'});
			return 'present';
		}

		// Read before the download so that the bytes are hashed once for both checks.
		const signature = await prepareSignature(sidecars.asc.toString('utf8'), ref.fileName, context.trusted);

		// Bytes that crossed the wire, failed attempts included.
		let seen = 0;
		const target = {
			partPath,
			metaPath,
			signature,
			onStart: ({total, resumedFrom}: {total: number | undefined; resumedFrom: number}) => {
				seen = resumedFrom;
				context.emit({type: 'download', path: ref.path, total, resumedFrom});
			},
			onProgress: (bytes: number) => {
				context.bytes += bytes - seen;
				seen = bytes;
				context.emit({type: 'progress', path: ref.path, bytes, total: undefined});
			},
			onRetry: (event: RetryEvent) => {
				context.emit({type: 'retry', path: ref.path, ...event});
			},
			beforeWrite: context.assertHeld,
		};

		let result = await context.client.download(url, target);
		try {
			checkSha512(ref.fileName, result.sha512, sidecars.expected);
		} catch (error) {
			if (result.resumedFrom === 0) {
				throw error;
			}

			// The kept prefix may be from another build of this file: start over once.
			context.emit({
				type: 'warning',
				message: `${ref.path}: resumed download did not verify; downloading it whole`,
			});
			await discardPart();
			result = await context.client.download(url, target);
			checkSha512(ref.fileName, result.sha512, sidecars.expected);
		}

		await checkSignature(signature, result.digests, partPath, context.trusted);
		await context.target.publishArtifact({
			ref,
			partPath,
			sha512: result.sha512,
			sha512Sidecar: sidecars.sha512,
			ascSidecar: sidecars.asc,
			modified: result.lastModified,
			replacing,
		});
		await rm(metaPath, {force: true});
		record(context, ref, {
			size: result.size,
			sha512: result.sha512,
			publishedAt: new Date(),
			upstreamModified: result.lastModified,
		});
		context.emit({
			type: 'published',
			path: ref.path,
			size: result.size,
			sha512: result.sha512,
			resumedFrom: result.resumedFrom,
		});
		return 'published';
	} catch (error) {
		// Bad bytes and unwritable temp entries are thrown away; a transfer that merely
		// broke off is kept to resume. Once the lock is lost nothing is touched: the
		// temp files may be the next holder's by now.
		const lockLost = error instanceof MirrorError && error.code === 'ERR_LOCK_LOST';
		if (!lockLost && (!(error instanceof UpstreamError) || error.code === 'ERR_LOCAL_IO')) {
			await discardPart();
		}

		return fail(context, ref.path, error);
	}
}

/** Verify a triple that is on disk but not in the manifest, and record it when good. */
async function adopt(context: RunContext, ref: ArtifactRef): Promise<Outcome> {
	const file = context.target.localPath(ref.path);
	if (file === undefined) {
		// A remote store's objects would have to be downloaded to verify: fetch instead.
		context.emit({
			type: 'warning',
			message: `${ref.path} is in the store but not in its manifest; downloading it again`,
		});
		return fetchArtifact(context, ref, true);
	}

	try {
		const [sidecar, asc, info] = await Promise.all([
			readFile(`${file}.sha512`, 'utf8'),
			readFile(`${file}.asc`, 'utf8'),
			stat(file),
		]);
		const expected = parseSha512Sidecar(sidecar, ref.fileName);
		const {sha512: actual} = await verifySignature(file, ref.fileName, asc, context.trusted);
		checkSha512(ref.fileName, actual, expected);
		record(context, ref, {size: info.size, sha512: actual, publishedAt: info.mtime});
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

async function act(context: RunContext, action: Action): Promise<Outcome> {
	switch (action.kind) {
		case 'skip': {
			return 'present';
		}

		case 'adopt': {
			return adopt(context, action.ref);
		}

		case 'refresh': {
			return fetchArtifact(context, action.ref, true, action.entry.sha512);
		}

		case 'fetch': {
			return fetchArtifact(context, action.ref, action.replacing);
		}
	}
}

/** Mirror the signing keys at the upstream root, when they hold only trusted keys. */
async function syncKeys(context: RunContext): Promise<Outcome[]> {
	const outcomes: Outcome[] = [];
	for (const name of keyFiles) {
		const url = joinUrl(context.options.upstream, name);
		try {
			const {body} = await context.client.fetch(url, {maxBytes: keyMaxBytes});
			let check: Awaited<ReturnType<typeof checkKeyFile>>;
			try {
				check = await checkKeyFile(body.toString('utf8'), context.trusted);
			} catch {
				context.emit({type: 'warning', message: `${name} upstream is not an armored PGP key; not mirrored`});
				continue;
			}

			if (check.untrusted.length > 0) {
				context.emit({
					type: 'warning',
					message: `${name} upstream holds key ${check.untrusted.join(', ')}, which is not a trusted key; not mirrored`,
				});
				continue;
			}

			const local = await context.target.readFile(name);
			const sha512 = createHash('sha512').update(body).digest('hex');
			if (local?.equals(body)) {
				outcomes.push('present');
			} else {
				await context.target.publishRootFile(name, body);
				context.emit({type: 'published', path: name, size: body.length, sha512, resumedFrom: 0});
				outcomes.push('published');
			}

			const previous = context.manifest.keys[name];
			context.manifest.keys[name] = {
				path: name,
				fingerprints: check.fingerprints,
				size: body.length,
				sha512,
				publishedAt: previous?.sha512 === sha512 ? previous.publishedAt : new Date().toISOString(),
			};
		} catch (error) {
			if (error instanceof NotFoundError) {
				context.emit({type: 'warning', message: `upstream has no ${name}; not mirrored`});
				continue;
			}

			outcomes.push(fail(context, name, error));
		}
	}

	return outcomes;
}

/** Failures for versions of which nothing at all exists upstream: most likely a typo. */
function emptyVersions(wanted: readonly ArtifactRef[], outcomes: readonly Outcome[]): Failure[] {
	const byVersion = new Map<string, Outcome[]>();
	wanted.forEach((ref, index) => {
		if (!ref.fips) {
			const list = byVersion.get(ref.version) ?? [];
			list.push(outcomes[index] ?? 'failed');
			byVersion.set(ref.version, list);
		}
	});
	return [...byVersion]
		.filter(([, list]) => list.length > 0 && list.every((outcome) => outcome === 'not-published'))
		.map(([version]) => ({
			path: version,
			reason: `nothing is published upstream for version ${version}; is the version right?`,
			code: 'ERR_NO_SUCH_VERSION',
		}));
}

/**
Run one sync. Resolves with the summary (also emitted as the last event); rejects
only when the run cannot start: bad keys (UsageError), the lock (LockHeldError), or
an unreachable versions API (UpstreamError); when the upstream cannot be reached at
all (ERR_UNREACHABLE, ERR_TLS: recorded as a failed run); or when an object store's
lease is lost mid-run (ERR_LOCK_LOST), after which it writes nothing more.
*/
export async function sync(options: SyncOptions, emit: EventSink): Promise<Summary> {
	const startedAt = new Date();
	const trusted = await loadTrustedKeys(options.trustedKeyPaths);
	const client = createHttpClient(options.http);
	try {
		const {
			versions,
			warnings: versionWarnings,
			list,
		} = options.only
			? {versions: [...new Set(options.only.map((ref) => ref.version))], warnings: [], list: undefined}
			: await resolve(options, client, emit);
		const wanted = options.only ? [...options.only] : wantedArtifacts({...options, versions});
		const target = await openStore(options);
		try {
			emit({
				type: 'start',
				dir: target.label,
				upstream: redactText(options.upstream),
				versions,
				files: wanted.length,
				...(list ? {versionsApi: redactText(list.api), versionsApiNote: list.note} : {}),
			});
			return await runWithTarget(options, emit, {
				client,
				trusted,
				target,
				wanted,
				versions,
				versionWarnings,
				startedAt,
			});
		} finally {
			target.close();
		}
	} finally {
		client.close();
	}
}

async function runWithTarget(
	options: SyncOptions,
	emit: EventSink,
	run: {
		client: HttpClient;
		trusted: TrustedKeys;
		target: MirrorStore;
		wanted: ArtifactRef[];
		versions: string[];
		versionWarnings: string[];
		startedAt: Date;
	},
): Promise<Summary> {
	const {client, trusted, target, wanted, versions, versionWarnings, startedAt} = run;
	const warnings = [...versionWarnings];
	const warn = (message: string) => {
		warnings.push(message);
		emit({type: 'warning', message});
	};

	const lock = options.dryRun ? undefined : await target.lock(warn);
	try {
		const {manifest, warning} = await target.readManifest();
		if (warning) {
			warn(warning);
		}

		const actions = plan(wanted, manifest, await target.inspect(wanted));
		for (const action of actions) {
			if (options.dryRun || action.kind !== 'skip') {
				emit({type: 'plan', action: action.kind, path: action.ref.path, reason: action.reason});
			}
		}

		if (options.dryRun) {
			const summary: Summary = {
				result: 'success',
				dryRun: true,
				versions,
				published: 0,
				present: actions.filter((action) => action.kind === 'skip').length,
				notPublished: 0,
				keys: {published: 0, present: 0},
				failed: [],
				warnings,
				bytes: 0,
				durationMs: Date.now() - startedAt.getTime(),
				requests: {...client.counts},
			};
			emit({type: 'summary', summary});
			return summary;
		}

		await makeDir(target.tmp, privateDirMode);
		await removeStalePartials(target.tmp);
		let saving = Promise.resolve();
		let dirty = false;
		const save = () => {
			saving = saving.then(async () => {
				if (dirty) {
					dirty = false;
					await target.writeManifest(manifest);
				}
			});
			return saving;
		};

		let timer: NodeJS.Timeout | undefined;
		const context: RunContext = {
			options,
			target,
			assertHeld: lock ? () => lock.assertHeld() : undefined,
			client,
			trusted,
			manifest,
			emit: (event) => {
				if (event.type === 'warning') {
					warnings.push(event.message);
				}

				emit(event);
			},
			failures: [],
			bytes: 0,
			saveSoon() {
				// Saved at most once a second while files publish: a killed run loses
				// little, and what it loses is re-verified from disk (adopt).
				dirty = true;
				timer ??= setTimeout(() => {
					timer = undefined;
					// A failed save surfaces at the final save, which chains on this one.
					save().catch(() => undefined);
				}, 1000);
			},
		};

		const limit = pLimit(options.concurrency);
		const outcomes = await Promise.all(
			actions.map((action) =>
				limit(() => (context.stop ? Promise.resolve<Outcome>('failed') : act(context, action))),
			),
		).catch((error: unknown) => {
			limit.clearQueue();
			clearTimeout(timer);
			throw error;
		});
		const keyOutcomes = context.stop ? [] : await syncKeys(context);
		clearTimeout(timer);
		dirty = true;
		await save();
		if (context.stop) {
			const stop = context.stop;
			await target.recordRun({
				startedAt: startedAt.toISOString(),
				finishedAt: new Date().toISOString(),
				result: 'failed',
				counts: {
					published: outcomes.filter((outcome) => outcome === 'published').length,
					present: outcomes.filter((outcome) => outcome === 'present').length,
					notPublished: outcomes.filter((outcome) => outcome === 'not-published').length,
					// Every file the stopped run did not get, whether it was tried or not.
					failed: outcomes.filter((outcome) => outcome === 'failed').length,
					bytes: context.bytes,
				},
				error: redactText(stop.message),
				failures: recordedFailures(context.failures),
			});
			throw stop;
		}

		const failures = [...context.failures, ...emptyVersions(wanted, outcomes)];
		for (const failure of failures.slice(context.failures.length)) {
			emit({type: 'failed', ...failure});
		}

		// Artifacts and key files are counted apart: "3 published" means three artifacts.
		const count = (kind: Outcome, among: Outcome[] = outcomes) =>
			among.filter((outcome) => outcome === kind).length;
		const summary: Summary = {
			result: failures.length > 0 ? 'failed' : 'success',
			dryRun: false,
			versions,
			published: count('published'),
			present: count('present'),
			notPublished: count('not-published'),
			keys: {published: count('published', keyOutcomes), present: count('present', keyOutcomes)},
			failed: failures,
			warnings,
			bytes: context.bytes,
			durationMs: Date.now() - startedAt.getTime(),
			requests: {...client.counts},
		};
		await target.recordRun({
			startedAt: startedAt.toISOString(),
			finishedAt: new Date().toISOString(),
			result: summary.result,
			counts: {
				published: summary.published,
				present: summary.present,
				notPublished: summary.notPublished,
				failed: failures.length,
				bytes: summary.bytes,
				keys: summary.keys,
			},
			failures: recordedFailures(failures),
		});
		emit({type: 'summary', summary});
		return summary;
	} finally {
		await lock?.release();
	}
}
