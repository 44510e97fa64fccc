/**
The locked part of a sync run: read the manifest, plan, then fetch, verify and
publish with bounded concurrency, mirror the key files, run the packages phase
(packages/phase.ts), the Defend phase (defend/phase.ts) and the image phase
(images/phase.ts) with the same writer, and
record the run once. A dry run stops after the plan, without the lock.
*/
import pLimit from 'p-limit';
import type {DefendCounts} from '../defend/phase.js';
import type {ImageRequest} from '../images/catalog.js';
import type {RegistrySource} from '../images/registry-source.js';
import type {EventSink, Failure, ImagesSummary, Summary} from '../mirror/events.js';
import {openWriter} from '../mirror/writer.js';
import type {PackagePhase} from '../packages/phase.js';
import type {PackageSelection} from '../packages/resolve.js';
import {removeStalePartials} from '../store/abandoned.js';
import {makeDir, privateDirMode} from '../store/modes.js';
import type {MirrorStore} from '../store/store.js';
import type {TrustedKeys} from '../trust/keys.js';
import type {HttpClient} from '../upstream/types.js';
import {adopt} from './adopt.js';
import type {ArtifactRef} from './catalog.js';
import {loadCollections} from './collections.js';
import type {Outcome, RunContext} from './context.js';
import {downloadArtifact, type Publication} from './fetch.js';
import {syncKeys} from './key-files.js';
import {type Action, plan} from './plan.js';
import {countOf, emptyVersions} from './summary.js';

/** What a run needs once its versions are resolved and its store is open. */
export type RunSetup = {
	/** Upstream root, e.g. https://artifacts.elastic.co. */
	readonly upstream: string;
	readonly concurrency: number;
	readonly dryRun: boolean;
	readonly client: HttpClient;
	readonly trusted: TrustedKeys;
	readonly store: MirrorStore;
	readonly wanted: ArtifactRef[];
	readonly versions: string[];
	readonly versionWarnings: string[];
	/** Whether the upstream's key files are mirrored: only when binaries are synced. */
	readonly keys: boolean;
	/** The package versions selected and where from, when packages are. */
	readonly packages?: {readonly registry: string; readonly selection: PackageSelection} | undefined;
	/** The Defend versions (resolved) and their host, when Defend is selected. */
	readonly defend?: {readonly upstream: string; readonly versions: readonly string[]} | undefined;
	/** The images selected, their source and the platforms kept, when images are. */
	readonly images?:
		| {
				readonly source: RegistrySource;
				readonly platforms: readonly string[];
				readonly requests: readonly ImageRequest[];
				/** The tags of untagged requests. */
				readonly stackVersions: readonly string[];
		  }
		| undefined;
	readonly startedAt: Date;
};

/** A manifest written at most once a second while files publish: a killed run loses little. */
const saveEveryMs = 1000;

async function act(context: RunContext, action: Action): Promise<Outcome | Publication> {
	switch (action.kind) {
		case 'skip': {
			return 'present';
		}

		case 'adopt': {
			return adopt(context, action.ref);
		}

		case 'refresh': {
			return downloadArtifact(context, action.ref, true, action.entry.sha512);
		}

		case 'fetch': {
			return downloadArtifact(context, action.ref, action.replacing);
		}
	}
}

/**
Run the planned work on an open store under its lock (none for a dry run). Resolves
with the summary, also emitted; rejects as `sync` documents.
*/
export async function runLocked(setup: RunSetup, emit: EventSink): Promise<Summary> {
	const {client, trusted, store, wanted, versions, startedAt} = setup;
	const warnings = [...setup.versionWarnings];
	const warn = (message: string) => {
		warnings.push(message);
		emit({type: 'warning', message});
	};

	const lock = setup.dryRun ? undefined : await store.lock(warn);
	try {
		const {writer, warning} = await openWriter(store, {saveEveryMs});
		if (warning) {
			warn(warning);
		}

		const actions = plan(wanted, writer.manifest, await store.inspect(wanted));
		for (const action of actions) {
			if (setup.dryRun || action.kind !== 'skip') {
				emit({type: 'plan', action: action.kind, path: action.ref.path, reason: action.reason});
			}
		}

		const code = await loadCollections(setup);
		const packages: PackagePhase | undefined = setup.packages &&
			code.packages && {
				registry: setup.packages.registry,
				actions: code.packages.planPackages(setup.packages.selection.selected, writer.manifest),
				resolveFailures: setup.packages.selection.failures.length,
			};
		for (const action of packages?.actions ?? []) {
			if (setup.dryRun || action.kind !== 'skip') {
				emit({type: 'plan', action: action.kind, path: action.path, reason: action.reason});
			}
		}

		const defendActions =
			setup.defend && code.defend ? code.defend.planDefend(setup.defend.versions, writer.manifest) : [];
		for (const action of defendActions) {
			emit({type: 'plan', action: action.kind, path: action.path, reason: action.reason});
		}

		const imageActions =
			setup.images && code.images
				? code.images.planImages(setup.images.requests, setup.images.stackVersions, writer.manifest)
				: [];
		for (const action of imageActions) {
			emit({type: 'plan', action: action.kind, path: action.path, reason: action.reason});
		}

		// Requests the registry could not meet: reported as they were found, counted with the run's.
		const resolveFailures: Failure[] = [...(setup.packages?.selection.failures ?? [])];

		const summarize = (result: Summary['result'], fields: Partial<Summary>): Summary => ({
			result,
			dryRun: setup.dryRun,
			versions,
			published: 0,
			present: 0,
			notPublished: 0,
			keys: {published: 0, present: 0},
			failed: [],
			warnings,
			bytes: 0,
			...fields,
			durationMs: Date.now() - startedAt.getTime(),
			requests: {...client.counts},
		});
		if (setup.dryRun) {
			const summary = summarize(resolveFailures.length > 0 ? 'failed' : 'success', {
				present: actions.filter((action) => action.kind === 'skip').length,
				failed: resolveFailures,
				...(packages && {
					packages: {
						published: 0,
						present: packages.actions.filter((action) => action.kind === 'skip').length,
						failed: resolveFailures.length,
					},
				}),
				...(code.defend && {defend: code.defend.plannedDefendCounts(defendActions)}),
				...(code.images && {images: code.images.plannedImageCounts(imageActions)}),
			});
			emit({type: 'summary', summary});
			return summary;
		}

		await makeDir(store.tmp, privateDirMode);
		await removeStalePartials(store.tmp);
		const context: RunContext = {
			upstream: setup.upstream,
			store,
			writer,
			assertHeld: lock ? () => lock.assertHeld() : undefined,
			client,
			trusted,
			emit: (event) => {
				if (event.type === 'warning') {
					warnings.push(event.message);
				}

				emit(event);
			},
			failures: [],
			bytes: 0,
		};

		const limit = pLimit(setup.concurrency);
		// A verified artifact is published (local writes and flushes) in a lane of its own,
		// as wide as the downloads, while its download slot goes to the next file.
		const publishing = pLimit(setup.concurrency);
		// A phase that throws ends the run: nothing queued starts, no periodic save follows.
		const abandon = (error: unknown): never => {
			limit.clearQueue();
			publishing.clearQueue();
			writer.stop();
			throw error;
		};
		const outcomes = await Promise.all(
			actions.map((action) =>
				limit(() => (context.stop ? Promise.resolve<Outcome>('failed') : act(context, action))).then(
					(next) => (typeof next === 'string' ? next : publishing(next.publish)),
				),
			),
		).catch(abandon);
		const keyOutcomes = context.stop || !setup.keys ? [] : await syncKeys(context);
		const packageOutcomes =
			packages && code.packages && !context.stop
				? await code.packages.runPackagePhase(context, packages, limit).catch(abandon)
				: [];
		const packageSummary = packages && code.packages?.packageCounts(packages, packageOutcomes);
		const defendSummary: DefendCounts | undefined =
			setup.defend && code.defend && !context.stop
				? await code.defend
						.runDefendPhase(context, {upstream: setup.defend.upstream, actions: defendActions}, limit)
						.catch(abandon)
				: undefined;
		const imagesSummary: ImagesSummary | undefined =
			setup.images && code.images && !context.stop
				? await code.images
						.runImagePhase(
							context,
							{source: setup.images.source, platforms: setup.images.platforms, actions: imageActions},
							limit,
						)
						.catch(abandon)
				: undefined;
		writer.stop();
		await writer.save({always: true});
		const count = (kind: Outcome, among: readonly Outcome[] = outcomes) => countOf(among, kind);
		if (context.stop) {
			const stop = context.stop;
			await writer.recordRun({
				startedAt,
				result: 'failed',
				counts: {
					published: count('published'),
					present: count('present'),
					notPublished: count('not-published'),
					// Every file the stopped run did not get, whether it was tried or not.
					failed: count('failed') + (defendSummary?.failed ?? 0) + (imagesSummary?.failed ?? 0),
					bytes: context.bytes,
					packages: packageSummary,
					defend: defendSummary,
					images: imagesSummary,
				},
				error: stop.message,
				failures: [...resolveFailures, ...context.failures],
			});
			throw stop;
		}

		const empty = emptyVersions(wanted, outcomes);
		for (const failure of empty) {
			emit({type: 'failed', ...failure});
		}

		const failures = [...resolveFailures, ...context.failures, ...empty];

		// Artifacts and key files are counted apart: "3 published" means three artifacts.
		const summary = summarize(failures.length > 0 ? 'failed' : 'success', {
			published: count('published'),
			present: count('present'),
			notPublished: count('not-published'),
			keys: {published: count('published', keyOutcomes), present: count('present', keyOutcomes)},
			...(packageSummary && {packages: packageSummary}),
			...(defendSummary && {defend: defendSummary}),
			...(imagesSummary && {images: imagesSummary}),
			failed: failures,
			bytes: context.bytes,
		});
		await writer.recordRun({
			startedAt,
			result: summary.result,
			counts: {
				published: summary.published,
				present: summary.present,
				notPublished: summary.notPublished,
				failed: failures.length,
				bytes: summary.bytes,
				keys: summary.keys,
				packages: summary.packages,
				defend: summary.defend,
				images: summary.images,
			},
			failures,
		});
		emit({type: 'summary', summary});
		return summary;
	} finally {
		await lock?.release();
	}
}
