/**
One sync run of the agent collection: resolve versions, open the store, then hand
the plan, fetch, verify and publish to the locked run (run.ts). The entry point of
`sync`, the scheduled sync of `serve`, and the re-fetch of `verify --repair`.
*/
import type {SyncOptions} from '../config/types.js';
import type {EventSink, Summary} from '../mirror/events.js';
import {redactText} from '../redact.js';
import {openStore} from '../store/open.js';
import {loadTrustedKeys} from '../trust/keys.js';
import {createHttpClient} from '../upstream/client.js';
import {wantedArtifacts} from './catalog.js';
import {resolve} from './resolve.js';
import {runLocked} from './run.js';

export type {SyncOptions};

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
		const store = await openStore(options);
		try {
			emit({
				type: 'start',
				dir: store.label,
				upstream: redactText(options.upstream),
				versions,
				files: wanted.length,
				...(list ? {versionsApi: redactText(list.api), versionsApiNote: list.note} : {}),
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
					versionWarnings,
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
