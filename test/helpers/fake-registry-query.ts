/**
The /search and /categories logic of package-registry, read from `search.go`, `categories.go` and
`packages/packages.go` (`Filter.Apply`, `legacyApply`, `filterCategories`, `Packages.Less`),
`packages/package.go` (`HasKibanaVersion`, `HasCompatibleSpec`, `WorksWithCapabilities`,
`IsPrerelease`, `hasCategory`). Go iterates the query map in random order, so which of two bad
parameters is reported is random there; here it is the order below.
Over 300 lines because parameter parsing, `Filter.Apply`, `legacyApply`, the category filter and
the /categories counts share one Filter and are read side by side with the Go they mirror.
*/
import semver from 'semver';
import {baseTemplate, type FakePackage} from './fake-registry-build.js';
import {knownCategories} from './fake-registry-data.js';
import {parseConstraint, parseLooseVersion, satisfies} from './fake-registry-semver.js';

/** `packages.Filter` as the handlers fill it. */
type Filter = {
	all: boolean;
	category: string;
	prerelease: boolean;
	experimental: boolean;
	kibana?: string;
	agent?: string;
	name: string;
	type: string;
	capabilities?: string[];
	specMin?: string;
	specMax?: string;
	discovery: boolean;
};

/** Go `url.Values` from a raw query: pairs with `;` or a bad escape are dropped like `URL.Query()` drops them. */
export function goQuery(raw: string): Map<string, string[]> {
	const values = new Map<string, string[]>();
	for (const pair of raw.split('&')) {
		if (pair === '' || pair.includes(';')) {
			continue;
		}
		const [key = '', value = ''] = pair.includes('=')
			? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
			: [pair];
		try {
			const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
			const name = decode(key);
			values.set(name, [...(values.get(name) ?? []), decode(value)]);
		} catch {
			// Go's ParseQuery skips a pair it cannot unescape.
		}
	}
	return values;
}

/** strconv.ParseBool */
function parseBool(text: string): boolean | undefined {
	if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) {
		return true;
	}
	return ['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text) ? false : undefined;
}

function specVersion(name: string, text: string): string {
	if (text.split('.').length !== 2) {
		throw new Error(`invalid '${name}' version: invalid version '${text}': it should be <major.version>`);
	}
	const parsed = parseLooseVersion(text);
	if ('error' in parsed) {
		throw new Error(`invalid '${name}' version: invalid spec version '${text}': ${parsed.error}`);
	}
	return parsed.version;
}

const searchKeys = [
	'kibana.version',
	'category',
	'package',
	'type',
	'capabilities',
	'spec.min',
	'spec.max',
	'all',
	'experimental',
	'prerelease',
	'discovery',
	'agent.version',
];
const categoriesKeys = [
	'kibana.version',
	'experimental',
	'prerelease',
	'capabilities',
	'spec.min',
	'spec.max',
	'discovery',
	'agent.version',
];

/** `newSearchFilterFromQuery` / `newCategoriesFilterFromQuery`; throws with the 400 message. */
export function parseFilter(query: Map<string, string[]>, endpoint: 'search' | 'categories'): Filter {
	const filter: Filter = {
		all: false,
		category: '',
		prerelease: false,
		experimental: false,
		name: '',
		type: '',
		discovery: false,
	};
	const keys = endpoint === 'search' ? searchKeys : categoriesKeys;
	for (const key of keys) {
		const values = query.get(key);
		const v = values?.[0] ?? '';
		if (values === undefined || (v === '' && key !== 'discovery')) {
			continue;
		}
		const bool = (field: 'all' | 'experimental' | 'prerelease') => {
			const parsed = parseBool(v);
			if (parsed === undefined) {
				throw new Error(`invalid '${key}' query param: '${v}'`);
			}
			filter[field] = parsed;
		};
		const version = (label: string) => {
			const parsed = parseLooseVersion(v);
			if ('error' in parsed) {
				throw new Error(`invalid ${label} version '${v}': ${parsed.error}`);
			}
			return parsed.version;
		};
		switch (key) {
			case 'kibana.version':
				filter.kibana = version('Kibana');
				break;
			case 'agent.version':
				filter.agent = version('agent');
				break;
			case 'category':
				filter.category = v;
				break;
			case 'package':
				filter.name = v;
				break;
			case 'type':
				filter.type = v;
				break;
			case 'capabilities':
				filter.capabilities = v.split(',');
				break;
			case 'spec.min':
				filter.specMin = specVersion('spec.min', v);
				break;
			case 'spec.max':
				filter.specMax = specVersion('spec.max', v);
				break;
			case 'all':
			case 'experimental':
			case 'prerelease':
				bool(key);
				break;
			case 'discovery':
				for (const each of values) {
					const [kind, found] = [each.split(':')[0] ?? '', each.includes(':')];
					if (!found) {
						throw new Error(
							`invalid 'discovery' query param: '${each}': could not parse filter ${JSON.stringify(each)}`,
						);
					}
					if (kind !== 'fields' && kind !== 'datasets') {
						throw new Error(
							`invalid 'discovery' query param: '${each}': unknown discovery filter ${JSON.stringify(kind)}`,
						);
					}
					filter.discovery = true;
				}
				break;
		}
	}
	if (endpoint === 'categories') {
		const include = query.get('include_policy_templates')?.[0] ?? '';
		if (include !== '' && parseBool(include) === undefined) {
			throw new Error(`invalid 'include_policy_templates' query param: '${include}'`);
		}
	}
	return filter;
}

const isPrerelease = (p: FakePackage) => (semver.prerelease(p.spec.version) ?? []).length > 0;
const release = (p: FakePackage) => p.searchEntry.release as string;
const categoriesOf = (p: FakePackage) => (p.searchEntry.categories as string[] | undefined) ?? [];
const templates = (p: FakePackage) => p.spec.policyTemplates ?? [];

function hasCategory(categories: readonly string[], category: string): boolean {
	return (
		categories.includes(category) || categories.some((c) => knownCategories.get(c)?.parent?.id === category)
	);
}

/** The checks of `Filter.Apply` that do not depend on the other packages. */
function matches(f: Filter, p: FakePackage): boolean {
	const {spec} = p;
	if (f.kibana && spec.kibana !== undefined && !satisfies(f.kibana, parseConstraint(spec.kibana))) {
		return false;
	}
	if (f.agent && spec.agent !== undefined && !satisfies(f.agent, parseConstraint(spec.agent))) {
		return false;
	}
	if ((f.name && f.name !== spec.name) || (f.type && f.type !== (spec.type ?? 'integration'))) {
		return false;
	}
	if (f.capabilities && spec.capabilities && !spec.capabilities.every((c) => f.capabilities?.includes(c))) {
		return false;
	}
	if (f.discovery) {
		// The fake's packages declare no `discovery`, which never matches a discovery filter.
		return false;
	}
	if (f.specMin || f.specMax) {
		const format = semver.parse(spec.formatVersion ?? '3.0.0');
		const majorMinor = format ? `${format.major}.${format.minor}.0` : '0.0.0';
		const range = [f.specMin && `>=${f.specMin}`, f.specMax && `<=${f.specMax}`].filter(Boolean).join(' ');
		return semver.satisfies(majorMinor, range);
	}
	return true;
}

/** `Filter.Apply` (or `legacyApply` when experimental=true), then the category filter. */
export function applyFilter(f: Filter, packages: readonly FakePackage[]): FakePackage[] {
	const list: FakePackage[] = [];
	const latest = new Map<string, number>();
	for (const p of packages) {
		// legacyApply (experimental=true) keeps experimental and prerelease versions.
		if (!f.experimental && (release(p) === 'experimental' || isPrerelease(p)) && !f.prerelease) {
			continue;
		}
		if (
			!matches(
				f.experimental
					? {
							...f,
							agent: undefined,
							capabilities: undefined,
							discovery: false,
							specMin: undefined,
							specMax: undefined,
						}
					: f,
				p,
			)
		) {
			continue;
		}
		const index = latest.get(p.spec.name);
		if (!f.all && index !== undefined) {
			const current = list[index] as FakePackage;
			const newer = semver.compare(p.spec.version, current.spec.version) > 0;
			if (!f.experimental ? newer : legacyReplaces(current, p)) {
				list[index] = p;
			}
			continue;
		}
		if (!f.all) {
			latest.set(p.spec.name, list.length);
		}
		list.push(p);
	}
	const kept = f.experimental && f.all ? dropPreviewsBesideReleases(list) : list;
	return f.category ? filterCategories(kept, f.category) : kept;
}

function legacyReplaces(current: FakePackage, p: FakePackage): boolean {
	if (
		isPrerelease(current) === isPrerelease(p) &&
		semver.compare(current.spec.version, p.spec.version) >= 0
	) {
		return false;
	}
	return !(!isPrerelease(current) && isPrerelease(p));
}

function dropPreviewsBesideReleases(list: readonly FakePackage[]): FakePackage[] {
	const preview = (p: FakePackage) => isPrerelease(p) || semver.major(p.spec.version) < 1;
	const hasRelease = new Set(list.filter((p) => !preview(p)).map((p) => p.spec.name));
	return list.filter((p) => !(hasRelease.has(p.spec.name) && preview(p)));
}

/** `filterCategories`: a package matching only through policy templates keeps just those templates. */
function filterCategories(list: readonly FakePackage[], category: string): FakePackage[] {
	return list.flatMap((p) => {
		if (hasCategory(categoriesOf(p), category)) {
			return [p];
		}
		if (!templates(p).some((t) => hasCategory(t.categories ?? [], category))) {
			return [];
		}
		const kept = templates(p)
			.filter((t) => t.categories?.includes(category))
			.map(baseTemplate);
		const entry = Object.fromEntries(
			Object.entries(p.searchEntry).flatMap(([key, value]) =>
				key === 'policy_templates' ? (kept.length > 0 ? [[key, kept]] : []) : [[key, value]],
			),
		);
		return [{...p, searchEntry: entry}];
	});
}

/** The /search answer body: sorted like `Packages.Less`, `[]` (no newline) when empty. */
export function searchEntries(list: readonly FakePackage[]): Record<string, unknown>[] {
	return [...list]
		.sort((a, b) =>
			a.spec.name === b.spec.name
				? semver.compare(a.spec.version, b.spec.version)
				: a.spec.name < b.spec.name
					? -1
					: 1,
		)
		.map((p) => p.searchEntry);
}

/** `getCategories` + `getCategoriesOutput`: counts per category id, sorted by id, titles and parents from the table. */
export function categoryCounts(
	list: readonly FakePackage[],
	includePolicyTemplates: boolean,
): Record<string, unknown>[] {
	const counts = new Map<string, number>();
	const bump = (c: string) => counts.set(c, (counts.get(c) ?? 0) + 1);
	for (const p of list) {
		const own = categoriesOf(p);
		own.forEach(bump);
		if (!includePolicyTemplates) {
			continue;
		}
		const extra: string[] = [];
		for (const t of templates(p)) {
			if ((t.categories ?? []).length === 0 && templates(p).length === 1) {
				break;
			}
			own.forEach(bump);
			for (const c of t.categories ?? []) {
				if (!counts.has(c)) {
					counts.set(c, 0);
				}
				if (!hasCategory(own, c) && !extra.includes(c)) {
					extra.push(c);
					bump(c);
				}
				bump(c);
			}
		}
	}
	return [...counts.keys()].sort().map((id) => {
		const known = knownCategories.get(id);
		return Object.fromEntries(
			Object.entries({
				id,
				title: known?.title ?? id,
				count: counts.get(id),
				parent_id: known?.parent?.id,
				parent_title: known?.parent?.title,
			}).filter(([, value]) => value !== undefined),
		);
	});
}
