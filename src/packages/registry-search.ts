/**
`/search` over the package versions a mirror holds, as Elastic's registry selects
them (packages/packages.go Filter.Apply and legacyApply, filterCategories, the
Packages sort); `/categories` counts what the same filter selects
(registry-categories.ts). Each version
is read from the entry upstream's `/search` gave for it, which carries every field
the filters look at; the spec version comes from the package's manifest. Pure.
*/
import semver from 'semver';
import type {PackageEntry} from '../store/manifest.js';
import {hasCategory} from './categories.js';
import {satisfiesConstraint} from './constraint.js';
import type {DiscoveryFilter, RegistryFilter} from './registry-query.js';

type SearchEntry = Readonly<Record<string, unknown>>;

/** One package version, with what the filters read from it. */
export type Candidate = {
	readonly name: string;
	readonly version: string;
	readonly prerelease: boolean;
	readonly release: string;
	readonly type: string;
	readonly categories: readonly string[];
	/** Each policy template's categories (undefined where it has none). */
	readonly templateCategories: ReadonlyArray<readonly string[] | undefined>;
	readonly kibana: string | undefined;
	readonly agent: string | undefined;
	readonly capabilities: readonly string[] | undefined;
	readonly discovery: {readonly fields: readonly string[]; readonly datasets: readonly string[]};
	/** `major.minor.0` of the format version, as the spec filters compare it; undefined when unknown. */
	readonly spec: string | undefined;
	/** The entry `/search` answers. */
	readonly search: SearchEntry;
};

function record(value: unknown): Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {};
}

function strings(value: unknown): string[] | undefined {
	return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

function names(value: unknown): string[] {
	return Array.isArray(value) ? value.map((item) => String(record(item).name ?? '')) : [];
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What the filters read from a published package version. */
export function candidateOf(entry: PackageEntry): Candidate {
	const search = entry.search;
	const conditions = record(search.conditions);
	const discovery = record(search.discovery);
	const spec = semver.parse(entry.formatVersion);
	return {
		name: entry.name,
		version: entry.version,
		prerelease: (semver.parse(entry.version)?.prerelease.length ?? 0) > 0,
		release: String(search.release ?? ''),
		type: String(search.type ?? 'integration'),
		categories: strings(search.categories) ?? [],
		templateCategories: (Array.isArray(search.policy_templates) ? search.policy_templates : []).map(
			(template) => strings(record(template).categories),
		),
		kibana: text(record(conditions.kibana).version),
		agent: text(record(conditions.agent).version),
		capabilities: strings(record(conditions.elastic).capabilities),
		discovery: {fields: names(discovery.fields), datasets: names(discovery.datasets)},
		spec: spec ? `${spec.major}.${spec.minor}.0` : undefined,
		search,
	};
}

function discoveryMatches(filters: readonly DiscoveryFilter[], candidate: Candidate): boolean {
	const {fields, datasets} = candidate.discovery;
	return filters.every((filter) => {
		// A package matches `fields` when all its fields are asked for, `datasets` when any is.
		if (filter.fields && filter.fields.length > 0) {
			if (fields.length === 0 || !fields.every((field) => filter.fields?.includes(field))) {
				return false;
			}
		}

		if (filter.datasets && filter.datasets.length > 0) {
			if (datasets.length === 0 || !datasets.some((dataset) => filter.datasets?.includes(dataset))) {
				return false;
			}
		}

		return true;
	});
}

/**
Masterminds' rule for a prerelease version: an `||` group matches it only when one
of the group's comparators names a prerelease itself, and then by plain precedence
(node-semver would ask for the same major.minor.patch instead).
*/
function prereleaseSatisfies(version: string, constraint: string): boolean {
	return constraint.split('||').some((group) => {
		// Read from the text: node-semver's desugared ranges carry prereleases (`<10.0.0-0`) the constraint does not.
		const namesPrerelease = /\d(?:\.[\dxX*]+){0,2}-[0-9A-Za-z]/.test(group);
		return (
			namesPrerelease &&
			semver.satisfies(version, group.replaceAll(',', ' ').trim(), {includePrerelease: true})
		);
	});
}

/** A version that satisfies `constraint` (none: every version). */
function within(version: string | undefined, constraint: string | undefined): boolean {
	if (version === undefined || constraint === undefined) {
		return true;
	}

	return semver.prerelease(version)
		? prereleaseSatisfies(version, constraint)
		: satisfiesConstraint(version, constraint);
}

function specMatches(filter: RegistryFilter, candidate: Candidate): boolean | 'unknown' {
	if (filter.specMin === undefined && filter.specMax === undefined) {
		return true;
	}

	if (candidate.spec === undefined) {
		return 'unknown';
	}

	return (
		(filter.specMin === undefined || semver.gte(candidate.spec, filter.specMin)) &&
		(filter.specMax === undefined || semver.lte(candidate.spec, filter.specMax))
	);
}

/** The registry's answer when a version has no spec version to compare (its Apply fails). */
export class SpecUnknownError extends Error {}

function newerOrEqual(a: Candidate, b: Candidate): boolean {
	return semver.compare(a.version, b.version) >= 0;
}

/** Keep one version per name (the one `keep` prefers), in the order names first appear. */
function latestOnly(
	list: Candidate[],
	candidate: Candidate,
	slots: Map<string, number>,
	replace: (current: Candidate, next: Candidate) => boolean,
): void {
	const slot = slots.get(candidate.name);
	if (slot === undefined) {
		slots.set(candidate.name, list.length);
		list.push(candidate);
	} else if (replace(list[slot] as Candidate, candidate)) {
		list[slot] = candidate;
	}
}

function applyCurrent(filter: RegistryFilter, candidates: readonly Candidate[]): Candidate[] {
	const list: Candidate[] = [];
	const slots = new Map<string, number>();
	for (const candidate of candidates) {
		if ((candidate.release === 'experimental' || candidate.prerelease) && !filter.prerelease) continue;
		if (!within(filter.kibanaVersion, candidate.kibana)) continue;
		if (!within(filter.agentVersion, candidate.agent)) continue;
		if (filter.packageName !== '' && filter.packageName !== candidate.name) continue;
		if (filter.packageType !== '' && filter.packageType !== candidate.type) continue;
		if (filter.capabilities && candidate.capabilities) {
			const offered = filter.capabilities;
			if (!candidate.capabilities.every((needed) => offered.includes(needed))) continue;
		}

		if (filter.discovery && !discoveryMatches(filter.discovery, candidate)) continue;
		const spec = specMatches(filter, candidate);
		if (spec === 'unknown') {
			throw new SpecUnknownError(
				`can't compare spec version for ${candidate.name} (${filter.specMin ?? '<nil>'}-${filter.specMax ?? '<nil>'}): package spec version is not set`,
			);
		}

		if (!spec) continue;
		if (filter.allVersions) {
			list.push(candidate);
		} else {
			latestOnly(list, candidate, slots, (current, next) => !newerOrEqual(current, next));
		}
	}

	return list;
}

/** `experimental=true`: the selection of clients from before prerelease versions (legacyApply). */
function applyLegacy(filter: RegistryFilter, candidates: readonly Candidate[]): Candidate[] {
	let list: Candidate[] = [];
	const slots = new Map<string, number>();
	for (const candidate of candidates) {
		if (candidate.release === 'experimental' && !filter.experimental) continue;
		if (!within(filter.kibanaVersion, candidate.kibana)) continue;
		if (filter.packageName !== '' && filter.packageName !== candidate.name) continue;
		if (filter.packageType !== '' && filter.packageType !== candidate.type) continue;
		if (filter.allVersions) {
			list.push(candidate);
		} else {
			latestOnly(list, candidate, slots, (current, next) => {
				if (current.prerelease === next.prerelease && newerOrEqual(current, next)) return false;
				return current.prerelease || !next.prerelease;
			});
		}
	}

	if (filter.allVersions) {
		const techPreview = (candidate: Candidate) => semver.major(candidate.version) < 1;
		const hasStable = new Set(
			list.filter((candidate) => !candidate.prerelease && !techPreview(candidate)).map((c) => c.name),
		);
		list = list.filter(
			(candidate) => !(hasStable.has(candidate.name) && (candidate.prerelease || techPreview(candidate))),
		);
	}

	return list;
}

/** The search entry with only the policy templates in `category` (none left: the field goes, as Go omits it). */
function onlyTemplatesIn(candidate: Candidate, category: string): Candidate {
	const templates = Array.isArray(candidate.search.policy_templates) ? candidate.search.policy_templates : [];
	const kept = templates.filter((_template, index) =>
		candidate.templateCategories[index]?.includes(category),
	);
	const search: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(candidate.search)) {
		if (key !== 'policy_templates') {
			search[key] = value;
		} else if (kept.length > 0) {
			search[key] = kept;
		}
	}

	return {...candidate, search};
}

function filterCategory(list: Candidate[], category: string): Candidate[] {
	if (category === '') {
		return list;
	}

	return list.flatMap((candidate) => {
		if (hasCategory(candidate.categories, category)) {
			return [candidate];
		}

		return candidate.templateCategories.some((categories) => hasCategory(categories, category))
			? [onlyTemplatesIn(candidate, category)]
			: [];
	});
}

/** Name, then version (the registry's Packages.Less). */
function byNameThenVersion(a: Candidate, b: Candidate): number {
	if (a.name !== b.name) {
		return a.name < b.name ? -1 : 1;
	}

	return semver.compare(a.version, b.version);
}

/**
The versions `filter` selects, sorted as the registry answers them. Throws
SpecUnknownError when a spec range is asked for and a version has no spec version.
*/
export function applyFilter(filter: RegistryFilter, candidates: readonly Candidate[]): Candidate[] {
	const list = filter.experimental ? applyLegacy(filter, candidates) : applyCurrent(filter, candidates);
	return filterCategory(list, filter.category).sort(byNameThenVersion);
}
