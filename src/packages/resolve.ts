/**
What a run mirrors of the package registry: for each requested package and Kibana
version the version the registry's `/search` answers (its newest compatible one),
each pinned version, and, transitively, what those versions require (for each Kibana
version the newest compatible version in the required range, as Kibana would pick
it). Every selected version keeps its search entry exactly as upstream sent it and
the reasons it was selected. Only asks; nothing is downloaded here.
*/
import type {PackageSyncOptions} from '../config/types.js';
import {UpstreamError} from '../errors.js';
import type {EventSink, Failure} from '../mirror/events.js';
import {redactText} from '../redact.js';
import type {HttpClient} from '../upstream/types.js';
import {isPackageVersion, type PackageRequest, packageNamePattern, requestText} from './catalog.js';
import {compareVersionsDescending, satisfiesConstraint} from './constraint.js';

/** One entry of a `/search` answer, as upstream sent it. */
export type SearchEntry = Readonly<Record<string, unknown>> & {
	readonly name: string;
	readonly version: string;
};

/** A package version the run mirrors, and why. */
export type SelectedPackage = {
	readonly name: string;
	readonly version: string;
	/** Its `/search` entry, exactly as upstream answered it. */
	readonly search: SearchEntry;
	/** Why it is mirrored: "newest for Kibana 9.1.0", "pinned", "required by ...". */
	readonly reasons: readonly string[];
};

/** What the resolution found: the versions to mirror, requests that cannot be met, and warnings. */
export type PackageSelection = {
	/** By name, then newest first. */
	readonly selected: readonly SelectedPackage[];
	readonly failures: readonly Failure[];
	readonly warnings: readonly string[];
};

/** A whole `/search` answer for every package can be several megabytes. */
const searchMaxBytes = 64 * 1024 * 1024;

type Query = {package?: string; kibana?: string; all?: boolean; prerelease?: boolean};

/** A `requires` item: the package and the range of its versions that will do. */
type Requirement = {readonly kind: string; readonly package: string; readonly range: string};

/** The `requires.input` and `requires.content` items of a search entry. */
function requirementsOf(entry: SearchEntry): Requirement[] {
	const requires = entry.requires;
	if (typeof requires !== 'object' || requires === null) {
		return [];
	}

	return (['input', 'content'] as const).flatMap((kind) => {
		const list = (requires as Record<string, unknown>)[kind];
		return Array.isArray(list)
			? list.flatMap((item: unknown) => {
					const {package: name, version} = (item ?? {}) as Record<string, unknown>;
					return typeof name === 'string' && typeof version === 'string'
						? [{kind, package: name, range: version}]
						: [];
				})
			: [];
	});
}

/** Newest first. */
function newest(entries: readonly SearchEntry[]): SearchEntry | undefined {
	return [...entries].sort((a, b) => compareVersionsDescending(a.version, b.version))[0];
}

/** Ask the registry's `/search`, once per distinct query in a run. */
function createSearcher(registry: string, client: HttpClient, warn: (message: string) => void) {
	const answers = new Map<string, Promise<SearchEntry[]>>();
	const ask = async (url: string): Promise<SearchEntry[]> => {
		const {body} = await client.fetch(url, {maxBytes: searchMaxBytes}).catch((error: unknown) => {
			// The client's advice names the binaries' flags; here the registry is what was not reached.
			throw error instanceof UpstreamError && error.code === 'ERR_UNREACHABLE'
				? new UpstreamError(error.url, error.message.replace('--upstream and --versions-api', '--registry'), {
						retryable: false,
						cause: error,
						code: error.code,
					})
				: error;
		});
		let data: unknown;
		try {
			data = JSON.parse(body.toString('utf8'));
		} catch (error) {
			data = error;
		}

		if (!Array.isArray(data)) {
			const shown = redactText(url);
			throw new UpstreamError(
				shown,
				`the registry answered ${shown} with something that is not a package list`,
				{
					retryable: false,
				},
			);
		}

		const entries = data.filter(
			(item: unknown): item is SearchEntry =>
				typeof item === 'object' &&
				item !== null &&
				typeof (item as SearchEntry).name === 'string' &&
				typeof (item as SearchEntry).version === 'string' &&
				packageNamePattern.test((item as SearchEntry).name) &&
				isPackageVersion((item as SearchEntry).version),
		);
		if (entries.length < data.length) {
			// A name or version that cannot be a path in the tree is never mirrored.
			warn(
				`${redactText(url)}: ${data.length - entries.length} entries without a valid name and version ignored`,
			);
		}

		return entries;
	};

	return (query: Query): Promise<SearchEntry[]> => {
		const parameters = new URLSearchParams();
		if (query.package) parameters.set('package', query.package);
		if (query.kibana) parameters.set('kibana.version', query.kibana);
		if (query.all) parameters.set('all', 'true');
		if (query.prerelease) parameters.set('prerelease', 'true');
		const url = `${registry}/search?${parameters.toString()}`;
		let answer = answers.get(url);
		if (!answer) {
			answer = ask(url);
			answers.set(url, answer);
		}

		return answer;
	};
}

/**
Resolve the package requests against the registry for these Kibana versions. Rejects
when the registry cannot be asked (UpstreamError); an unknown package or version is a
failure in the selection, a Kibana version nothing works with a warning.
*/
export async function resolvePackages(
	options: PackageSyncOptions,
	kibanaVersions: readonly string[],
	client: HttpClient,
	emit: EventSink,
): Promise<PackageSelection> {
	const warnings: string[] = [];
	const failures: Failure[] = [];
	const warn = (message: string) => {
		warnings.push(message);
		emit({type: 'warning', message});
	};

	const search = createSearcher(options.registry.replace(/\/+$/, ''), client, warn);
	const {prerelease} = options;
	const chosen = new Map<string, {search: SearchEntry; reasons: string[]}>();
	// Selected versions whose requirements are still to be resolved, each for one Kibana version.
	const pending: Array<{entry: SearchEntry; kibana: string}> = [];
	const walked = new Set<string>();
	const select = (entry: SearchEntry, reason: string, kibana: readonly string[]) => {
		const key = `${entry.name}@${entry.version}`;
		const found = chosen.get(key) ?? {search: entry, reasons: []};
		if (!found.reasons.includes(reason)) {
			found.reasons.push(reason);
		}

		chosen.set(key, found);
		for (const version of kibana) {
			if (!walked.has(`${key} ${version}`)) {
				walked.add(`${key} ${version}`);
				pending.push({entry, kibana: version});
			}
		}
	};

	const fail = (path: string, reason: string, code: string) => {
		const failure = {path, reason, code};
		failures.push(failure);
		emit({type: 'failed', ...failure});
	};

	/** Every version of `name` the registry has, prereleases included: does it exist at all? */
	const everything = (name: string) => search({package: name, all: true, prerelease: true});

	const request = async (wanted: PackageRequest) => {
		switch (wanted.kind) {
			case 'all': {
				for (const kibana of kibanaVersions) {
					const entries = await search({kibana, prerelease});
					if (entries.length === 0) {
						warn(`all: the registry has no package that works with Kibana ${kibana}`);
					}

					for (const name of new Set(entries.map((entry) => entry.name))) {
						const best = newest(entries.filter((entry) => entry.name === name));
						if (best) select(best, `newest for Kibana ${kibana}`, [kibana]);
					}
				}

				return;
			}

			case 'name': {
				const missing: string[] = [];
				for (const kibana of kibanaVersions) {
					const best = newest(
						(await search({package: wanted.name, kibana, prerelease})).filter(
							(entry) => entry.name === wanted.name,
						),
					);
					if (best) {
						select(best, `newest for Kibana ${kibana}`, [kibana]);
					} else {
						missing.push(kibana);
					}
				}

				if (missing.length === 0) {
					return;
				}

				const known = (await everything(wanted.name)).filter((entry) => entry.name === wanted.name);
				if (known.length === 0) {
					fail(
						wanted.name,
						`the registry ${redactText(options.registry)} has no package ${wanted.name}`,
						'ERR_NO_SUCH_PACKAGE',
					);
					return;
				}

				// Only where a prerelease or experimental version exists that the flag would let in.
				const hidden = known.some((entry) => entry.version.includes('-') || entry.release === 'experimental');
				const hint =
					prerelease || !hidden ? '' : ' (prerelease versions not considered: --package-prerelease)';
				warn(`${wanted.name}: no version works with Kibana ${missing.join(', ')}${hint}`);
				return;
			}

			case 'pin': {
				const known = (await everything(wanted.name)).filter((entry) => entry.name === wanted.name);
				const exact = known.find((entry) => entry.version === wanted.version);
				if (exact) {
					select(exact, 'pinned', kibanaVersions);
				} else if (known.length === 0) {
					fail(
						requestText(wanted),
						`the registry ${redactText(options.registry)} has no package ${wanted.name}`,
						'ERR_NO_SUCH_PACKAGE',
					);
				} else {
					fail(
						requestText(wanted),
						`the registry ${redactText(options.registry)} has no version ${wanted.version} of ${wanted.name}`,
						'ERR_NO_SUCH_VERSION',
					);
				}
			}
		}
	};

	for (const wanted of options.requests) {
		await request(wanted);
	}

	// Requirements, breadth first: each selected version's, for the Kibana version it was selected for.
	for (let next = pending.shift(); next; next = pending.shift()) {
		const {entry, kibana} = next;
		for (const need of requirementsOf(entry)) {
			const candidates = (await search({package: need.package, kibana, all: true, prerelease})).filter(
				(candidate) => candidate.name === need.package && satisfiesConstraint(candidate.version, need.range),
			);
			const best = newest(candidates);
			const by = `${entry.name}-${entry.version} (${need.kind} ${need.range})`;
			if (best) {
				select(best, `required by ${by}`, [kibana]);
			} else {
				warn(`${need.package}: no version in ${need.range} works with Kibana ${kibana}, required by ${by}`);
			}
		}
	}

	const selected = [...chosen.values()]
		.map(({search, reasons}) => ({name: search.name, version: search.version, search, reasons}))
		.sort((a, b) => a.name.localeCompare(b.name) || compareVersionsDescending(a.version, b.version));
	return {selected, failures, warnings};
}
