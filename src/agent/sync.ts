/**
One sync run: resolve versions (and the package versions, when packages are
selected, and the Defend versions, when Defend is), open the store, then hand the
plan, fetch, verify and publish of all of them to the locked run (run.ts): one lock,
one writer, one run record. The entry point of
`sync`, the scheduled sync of `serve`, and the re-fetch of `verify --repair`.
*/
import type {PackageSyncOptions, SyncOptions} from '../config/types.js';
import {defaultImagePlatforms} from '../images/catalog.js';
import type {EventSink, Summary} from '../mirror/events.js';
import {type PackageRequest, parsePackagePath} from '../packages/catalog.js';
import type {PackageSelection} from '../packages/resolve.js';
import {redactText} from '../redact.js';
import {openStore} from '../store/open.js';
import {loadTrustedKeys} from '../trust/keys.js';
import {createHttpClient} from '../upstream/client.js';
import type {HttpClient} from '../upstream/types.js';
import {wantedArtifacts} from './catalog.js';
import {resolve} from './resolve.js';
import {runLocked} from './run.js';

export type {SyncOptions};

/** The versions of the binaries, asked for only when binaries are synced or the packages need them. */
async function resolveStack(options: SyncOptions, client: HttpClient, emit: EventSink) {
	if (options.only) {
		return {versions: [...new Set(options.only.map((ref) => ref.version))], warnings: [], list: undefined};
	}

	// Without binaries, --versions only stands in for missing --kibana-versions.
	const needed =
		options.products.length > 0 ||
		(options.packages && !options.packages.kibanaVersions) ||
		options.images?.requests.some((request) => request.tag === undefined);
	return needed ? resolve(options, client, emit) : {versions: [], warnings: [], list: undefined};
}

/** A repair's packages: exactly the versions verify quarantined, pinned, whatever the Kibana versions. */
function repairSelection(options: SyncOptions): PackageSyncOptions | undefined {
	const requests = (options.onlyPackages ?? []).flatMap((zipPath): PackageRequest[] => {
		const parsed = parsePackagePath(zipPath);
		return parsed ? [{kind: 'pin', ...parsed}] : [];
	});
	return requests.length > 0 ? {requests, registry: options.registry, prerelease: true} : undefined;
}

/** The package versions to mirror, for the Kibana versions given or else the stack's. */
async function resolveSelection(
	options: SyncOptions,
	stackVersions: readonly string[],
	client: HttpClient,
	emit: EventSink,
): Promise<
	{selection: PackageSelection; kibanaVersions: string[]; registry: string; warnings: string[]} | undefined
> {
	const packages = options.only ? repairSelection(options) : options.packages;
	if (!packages) {
		return undefined;
	}

	const kibana = options.only
		? {versions: [], warnings: []}
		: packages.kibanaVersions
			? await resolve({...options, versions: packages.kibanaVersions}, client, emit)
			: {versions: [...stackVersions], warnings: []};
	// Kibana asks with its version cut at the first `-` (9.2.0-SNAPSHOT asks for 9.2.0): so does the mirror.
	const kibanaVersions = [...new Set(kibana.versions.map((version) => version.split(/[-+]/)[0] ?? version))];
	const warnings = [...kibana.warnings];
	if (kibanaVersions.length === 0 && !options.only) {
		const message = 'no Kibana version to select packages for';
		warnings.push(message);
		emit({type: 'warning', message});
	}

	// Loaded only when packages are selected, as the run loads the phases (collections.ts).
	const {resolvePackages} = await import('../packages/resolve.js');
	const selection = await resolvePackages(packages, kibanaVersions, client, emit);
	return {
		selection,
		kibanaVersions,
		registry: packages.registry,
		warnings: [...warnings, ...selection.warnings],
	};
}

/** The Defend versions to mirror, resolved like --versions; none for a repair (it fetches only what verify named). */
async function resolveDefend(options: SyncOptions, client: HttpClient, emit: EventSink) {
	if (!options.defend) {
		return undefined;
	}

	const resolved = await resolve({...options, versions: options.defend.versions}, client, emit);
	const warnings = [...resolved.warnings];
	if (resolved.versions.length === 0) {
		const message = 'no Elastic Defend version to sync';
		warnings.push(message);
		emit({type: 'warning', message});
	}

	return {upstream: options.defend.upstream, versions: resolved.versions, warnings};
}

/** The images to mirror and where from; a repair's are exactly the tags verify unlisted. */
async function imageSelection(options: SyncOptions, client: HttpClient) {
	const repair = options.only && options.onlyImages && options.onlyImages.length > 0;
	const images = repair
		? {
				requests: (options.onlyImages ?? []).map((text) => {
					const colon = text.lastIndexOf(':');
					return {repository: text.slice(0, colon), tag: text.slice(colon + 1)};
				}),
				registry: options.imageRegistry,
				platforms: options.images?.platforms ?? defaultImagePlatforms,
			}
		: options.only
			? undefined
			: options.images;
	if (!images) {
		return undefined;
	}

	const [{loadCredentials}, {createRegistrySource}] = await Promise.all([
		import('../images/credentials.js'),
		import('../images/registry-source.js'),
	]);
	const credentials = loadCredentials(options.credentialFiles);
	return {...images, source: createRegistrySource(images.registry, client, credentials)};
}

/**
Run one sync. Resolves with the summary (also emitted as the last event); rejects
only when the run cannot start: bad keys (UsageError), the lock (LockHeldError), or
an unreachable versions API or registry (UpstreamError); when the upstream cannot be
reached at all (ERR_UNREACHABLE, ERR_TLS: recorded as a failed run); or when an
object store's lease is lost mid-run (ERR_LOCK_LOST), after which it writes nothing more.
*/
export async function sync(options: SyncOptions, emit: EventSink): Promise<Summary> {
	const startedAt = new Date();
	const trusted = await loadTrustedKeys(options.trustedKeyPaths);
	const client = createHttpClient(options.http);
	try {
		// A repair fetches binaries only when verify quarantined some.
		const binaries = options.only ? options.only.length > 0 : options.products.length > 0;
		const stack = await resolveStack(options, client, emit);
		const packages = await resolveSelection(options, stack.versions, client, emit);
		const defend = await resolveDefend(options, client, emit);
		const images = await imageSelection(options, client);
		const versions = binaries ? stack.versions : [];
		const wanted = options.only ? [...options.only] : binaries ? wantedArtifacts({...options, versions}) : [];
		const store = await openStore(options);
		try {
			emit({
				type: 'start',
				dir: store.label,
				upstream: redactText(options.upstream),
				versions,
				files: wanted.length,
				...(stack.list ? {versionsApi: redactText(stack.list.api), versionsApiNote: stack.list.note} : {}),
				...(packages
					? {
							packages: {
								registry: redactText(packages.registry),
								kibanaVersions: packages.kibanaVersions,
								versions: packages.selection.selected.length,
							},
						}
					: {}),
				...(defend ? {defend: {upstream: redactText(defend.upstream), versions: defend.versions}} : {}),
				...(images
					? {
							images: {
								registry: redactText(images.registry),
								tags: images.requests.map((request) =>
									request.tag === undefined
										? `${request.repository} (${stack.versions.join(', ') || 'no version'})`
										: `${request.repository}:${request.tag}`,
								),
							},
						}
					: {}),
			});
			return await runLocked(
				{
					upstream: options.upstream,
					concurrency: options.concurrency,
					dryRun: options.dryRun,
					client,
					trusted,
					store,
					wanted,
					versions,
					versionWarnings: [...stack.warnings, ...(packages?.warnings ?? []), ...(defend?.warnings ?? [])],
					keys: binaries,
					packages: packages ? {registry: packages.registry, selection: packages.selection} : undefined,
					defend: defend && {upstream: defend.upstream, versions: defend.versions},
					images: images && {
						source: images.source,
						platforms: images.platforms,
						requests: images.requests,
						stackVersions: stack.versions,
					},
					startedAt,
				},
				emit,
			);
		} finally {
			store.close();
		}
	} finally {
		client.close();
	}
}
