/**
The packages phase of a locked sync run: act on the package plan with the run's
shared context (store, writer, client, lock) and its concurrency limit, and count
what came of it. The run (agent/run.ts) calls it after the binaries.
*/
import type {Outcome, RunContext} from '../agent/context.js';
import {describeError, PackageError} from '../errors.js';
import {packagePaths} from './catalog.js';
import {fetchPackage} from './fetch.js';
import type {PackageAction} from './plan.js';
import {checkSearchEntry} from './verify.js';

/** What a run needs to sync packages: where from, the plan, and the failures resolution found. */
export type PackagePhase = {
	/** Upstream registry root. */
	readonly registry: string;
	readonly actions: readonly PackageAction[];
	/** Requests the registry could not meet (unknown package or version), already reported. */
	readonly resolveFailures: number;
};

/** What the packages phase came to, for the summary and the run record. */
export type PackageCounts = {published: number; present: number; failed: number};

/** Act on one package action. */
async function act(context: RunContext, registry: string, action: PackageAction): Promise<Outcome> {
	if (action.kind === 'fetch') {
		return fetchPackage(context, registry, action.pkg);
	}

	if (action.refresh) {
		// Same bytes, an entry upstream now words differently: served only if the stored info agrees.
		const {name, version, search} = action.pkg;
		try {
			const info = await context.store.readFile(packagePaths(name, version).info);
			if (!info) {
				throw new PackageError(`the package info of ${name}-${version} is missing from the tree`);
			}

			checkSearchEntry(name, version, search, info);
			context.writer.recordPackage({...action.refresh, search}, new Date(action.refresh.publishedAt));
		} catch (error) {
			context.emit({
				type: 'warning',
				message: `${action.path}: upstream's new search entry is not taken (${describeError(error)}); the held one stays served`,
			});
		}
	}

	return 'present';
}

/** Run the package plan, each action through `limit` (the run's concurrency). */
export async function runPackagePhase(
	context: RunContext,
	phase: PackagePhase,
	limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<Outcome[]> {
	return Promise.all(
		phase.actions.map((action) =>
			limit(() => (context.stop ? Promise.resolve<Outcome>('failed') : act(context, phase.registry, action))),
		),
	);
}

/** Count the outcomes of the phase, with the requests resolution could not meet as failures. */
export function packageCounts(phase: PackagePhase, outcomes: readonly Outcome[]): PackageCounts {
	const count = (kind: Outcome) => outcomes.filter((outcome) => outcome === kind).length;
	return {
		published: count('published'),
		present: count('present'),
		failed: count('failed') + count('not-published') + phase.resolveFailures,
	};
}
