/**
The Defend phase of a locked sync run: every version's manifest checked at once, and
the artifacts they name fetched through the run's concurrency limit, each once
however many versions name it. The run (agent/run.ts) calls it after the binaries
and the packages, with the same context (store, writer, client, lock).
*/
import {fail, type Outcome, type RunContext} from '../agent/context.js';
import {DefendError} from '../errors.js';
import type {DefendSummary} from '../mirror/events.js';
import type {DefendArtifactRef} from './catalog.js';
import {fetchDefendArtifact} from './fetch.js';
import type {DefendAction} from './plan.js';
import {syncDefendVersion} from './version.js';

/** What a run needs to sync Defend protections: where from, and the plan. */
export type DefendPhase = {
	/** The security artifacts host root. */
	readonly upstream: string;
	readonly actions: readonly DefendAction[];
};

/** What the Defend phase came to, for the summary and the run record. */
export type DefendCounts = DefendSummary;

/** The counts of a dry run: what is selected and held, nothing done. */
export function plannedDefendCounts(actions: readonly DefendAction[]): DefendCounts {
	return {
		versions: actions.length,
		held: actions.filter((action) => action.kind === 'refresh').length,
		updated: 0,
		unchanged: 0,
		failed: 0,
		artifacts: {published: 0, present: 0},
	};
}

/** Run the Defend plan; artifact downloads go through `limit` (the run's concurrency). */
export async function runDefendPhase(
	context: RunContext,
	phase: DefendPhase,
	limit: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<DefendCounts> {
	const heldBefore = new Set(Object.keys(context.writer.manifest.defend.artifacts));
	const fetches = new Map<string, {ref: DefendArtifactRef; outcome: Promise<Outcome>}>();
	const fetchArtifact = (ref: DefendArtifactRef, version: string): Promise<Outcome> => {
		const pending = fetches.get(ref.path);
		if (pending) {
			// One path, one content: two manifests disagreeing on it cannot both be served.
			return pending.ref.encodedSha256 === ref.encodedSha256 &&
				pending.ref.decodedSha256 === ref.decodedSha256
				? pending.outcome
				: Promise.resolve(
						fail(
							context,
							ref.path,
							new DefendError(
								`${ref.path}: the manifest of Defend ${version} gives encoded_sha256 ${ref.encodedSha256}, another manifest ${pending.ref.encodedSha256}`,
							),
						),
					);
		}

		// Known only now that a manifest named it: planned here, so progress counts it.
		context.emit({
			type: 'plan',
			action: 'fetch',
			path: ref.path,
			reason: `new artifact ${ref.identifier}, named by the manifest of Defend ${version}`,
		});
		const outcome = limit(() =>
			context.stop ? Promise.resolve<Outcome>('failed') : fetchDefendArtifact(context, phase.upstream, ref),
		);
		fetches.set(ref.path, {ref, outcome});
		return outcome;
	};

	// Manifests are small and few: all are asked at once; only artifact downloads queue.
	const outcomes = await Promise.all(
		phase.actions.map((action) => syncDefendVersion(context, phase.upstream, action, fetchArtifact)),
	);
	const fetched = await Promise.all([...fetches.values()].map((pending) => pending.outcome));
	const count = (result: string) => outcomes.filter((outcome) => outcome.result === result).length;
	const named = new Set(outcomes.flatMap((outcome) => outcome.named));
	return {
		...plannedDefendCounts(phase.actions),
		updated: count('updated'),
		unchanged: count('unchanged'),
		failed: count('failed'),
		artifacts: {
			published: fetched.filter((outcome) => outcome === 'published').length,
			present: [...named].filter((path) => heldBefore.has(path)).length,
		},
	};
}
