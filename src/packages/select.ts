/**
Choosing held package versions: by `--packages` requests (export, prune --unselected),
and the versions the chosen ones require (`requires.input` and `requires.content` of
their search entries), so that what is kept or carried is complete. Versions are
only the mirror's own: this never needs the network.
*/
import type {PackageEntry} from '../store/manifest.js';
import {type PackageRequest, requestText} from './catalog.js';
import {satisfiesConstraint} from './constraint.js';

/** Whether `request` takes the package version `name@version`. */
export function requestTakes(request: PackageRequest, name: string, version: string): boolean {
	return (
		request.kind === 'all' ||
		(request.name === name && (request.kind === 'name' || request.version === version))
	);
}

/** The held versions `requests` take, sorted by path, and a warning for each request that takes none. */
export function selectPackages(
	entries: Iterable<PackageEntry>,
	requests: readonly PackageRequest[],
): {selected: PackageEntry[]; warnings: string[]} {
	const all = [...entries];
	const warnings = requests
		.filter((request) => !all.some((entry) => requestTakes(request, entry.name, entry.version)))
		.map((request) => `--packages ${requestText(request)} matches no package version in the mirror`);
	const selected = all.filter((entry) =>
		requests.some((request) => requestTakes(request, entry.name, entry.version)),
	);
	return {selected: selected.sort((a, b) => a.path.localeCompare(b.path)), warnings};
}

type Requirement = {readonly package: string; readonly version: string};

/** The dependencies a version declares in its search entry, whatever shape a registry gave them. */
export function requirementsOf(entry: PackageEntry): Requirement[] {
	const requires = entry.search.requires as Record<string, unknown> | undefined;
	const found: Requirement[] = [];
	for (const kind of ['input', 'content']) {
		const list = requires?.[kind];
		for (const item of Array.isArray(list) ? list : []) {
			const {package: name, version} = (item ?? {}) as Record<string, unknown>;
			if (typeof name === 'string' && typeof version === 'string') {
				found.push({package: name, version});
			}
		}
	}

	return found;
}

/**
`chosen` and every held version that a version in it requires, transitively: each
held version of a required package that satisfies the required range (Kibana installs
one of them; which one depends on the Kibana version, so all of them are kept).
*/
export function withRequired(
	chosen: Iterable<PackageEntry>,
	held: Iterable<PackageEntry>,
): {entries: PackageEntry[]; requiredBy: Map<string, string>} {
	const byName = new Map<string, PackageEntry[]>();
	for (const entry of held) {
		byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
	}

	const taken = new Map<string, PackageEntry>();
	const requiredBy = new Map<string, string>();
	const queue = [...chosen];
	for (const entry of queue) {
		taken.set(entry.path, entry);
	}

	while (queue.length > 0) {
		const entry = queue.shift() as PackageEntry;
		for (const requirement of requirementsOf(entry)) {
			for (const candidate of byName.get(requirement.package) ?? []) {
				if (!taken.has(candidate.path) && satisfiesConstraint(candidate.version, requirement.version)) {
					taken.set(candidate.path, candidate);
					requiredBy.set(candidate.path, `${entry.name}@${entry.version}`);
					queue.push(candidate);
				}
			}
		}
	}

	return {entries: [...taken.values()].sort((a, b) => a.path.localeCompare(b.path)), requiredBy};
}
