/**
The query parameters of `/search` and `/categories` as Elastic's registry reads them
(search.go newSearchFilterFromQuery, categories.go newCategoriesFilterFromQuery):
the filter they make, or the 400 message for a bad value, word for word. Unknown
parameters are allowed, as the registry allows them by default. Only the first
value of a repeated parameter counts, except `discovery`, whose every value is a
filter. Go reports whichever bad parameter its map gives first; here it is the
first in query order.
*/
import {type LooseVersion, parseGoBool, parseGoQuery, parseLooseVersion, versionText} from './go-compat.js';

/** One `discovery=fields:a,b` or `discovery=datasets:x` filter. */
export type DiscoveryFilter = {readonly fields?: readonly string[]; readonly datasets?: readonly string[]};

/** The registry's packages.Filter. */
export type RegistryFilter = {
	readonly allVersions: boolean;
	readonly category: string;
	readonly prerelease: boolean;
	/** As node-semver writes it. */
	readonly kibanaVersion?: string | undefined;
	readonly agentVersion?: string | undefined;
	readonly packageName: string;
	readonly packageType: string;
	readonly capabilities?: readonly string[] | undefined;
	readonly specMin?: string | undefined;
	readonly specMax?: string | undefined;
	readonly discovery?: readonly DiscoveryFilter[] | undefined;
	/** Deprecated `experimental=true`: the legacy selection. */
	readonly experimental: boolean;
};

/** What `/categories` takes besides the filter. */
export type CategoriesQuery = {readonly filter: RegistryFilter; readonly includePolicyTemplates: boolean};

/** A bad value: the text the registry answers with status 400. */
export type QueryError = {readonly error: string};

type Mutable<T> = {-readonly [K in keyof T]: T[K]};

function emptyFilter(): Mutable<RegistryFilter> {
	return {
		allVersions: false,
		category: '',
		prerelease: false,
		packageName: '',
		packageType: '',
		experimental: false,
	};
}

function goQuote(text: string): string {
	return JSON.stringify(text);
}

function discoveryFilter(value: string): DiscoveryFilter | string {
	const colon = value.indexOf(':');
	if (colon < 0) {
		return `could not parse filter ${goQuote(value)}`;
	}

	const kind = value.slice(0, colon);
	const names = value.slice(colon + 1).split(',');
	if (kind === 'fields') {
		return {fields: names};
	}

	if (kind === 'datasets') {
		return {datasets: names};
	}

	return `unknown discovery filter ${goQuote(kind)}`;
}

/** getSpecVersion: `<major>.<minor>` only. */
function specVersion(value: string): string | QueryError {
	if (value.split('.').length !== 2) {
		return {error: `invalid version '${value}': it should be <major.version>`};
	}

	const parsed = parseLooseVersion(value);
	return 'error' in parsed
		? {error: `invalid spec version '${value}': ${parsed.error}`}
		: versionText(parsed);
}

function boolParam(name: string, value: string): boolean | QueryError {
	const parsed = parseGoBool(value);
	return parsed === undefined ? {error: `invalid '${name}' query param: '${value}'`} : parsed;
}

function versionParam(label: string, value: string): string | QueryError {
	const parsed: LooseVersion | QueryError = parseLooseVersion(value);
	return 'error' in parsed
		? {error: `invalid ${label} version '${value}': ${parsed.error}`}
		: versionText(parsed);
}

/** Sets one parameter's (non-empty, first) value on the filter; a QueryError for a bad one. */
type Setter = (filter: Mutable<RegistryFilter>, value: string) => QueryError | undefined;

/** `set(parsed)` unless parsing failed. */
function either<T>(parsed: T | QueryError, set: (value: T) => void): QueryError | undefined {
	if (isQueryError(parsed)) {
		return parsed;
	}

	set(parsed);
	return undefined;
}

const bool =
	(
		name: 'all' | 'experimental' | 'prerelease',
		field: 'allVersions' | 'experimental' | 'prerelease',
	): Setter =>
	(filter, value) =>
		either(boolParam(name, value), (flag) => {
			filter[field] = flag;
		});

const spec =
	(name: 'spec.min' | 'spec.max', field: 'specMin' | 'specMax'): Setter =>
	(filter, value) => {
		const parsed = specVersion(value);
		return either<string>(
			isQueryError(parsed) ? {error: `invalid '${name}' version: ${parsed.error}`} : parsed,
			(version) => {
				filter[field] = version;
			},
		);
	};

/** The parameters both endpoints take (search.go and categories.go agree on these). */
const common: Readonly<Record<string, Setter>> = {
	'kibana.version': (filter, value) =>
		either(versionParam('Kibana', value), (version) => {
			filter.kibanaVersion = version;
		}),
	'agent.version': (filter, value) =>
		either(versionParam('agent', value), (version) => {
			filter.agentVersion = version;
		}),
	'spec.min': spec('spec.min', 'specMin'),
	'spec.max': spec('spec.max', 'specMax'),
	experimental: bool('experimental', 'experimental'),
	prerelease: bool('prerelease', 'prerelease'),
	capabilities: (filter, value) => {
		filter.capabilities = value.split(',');
		return undefined;
	},
};

/** The parameters only `/search` takes; `/categories` ignores them. */
const searchOnly: Readonly<Record<string, Setter>> = {
	all: bool('all', 'allVersions'),
	category: (filter, value) => {
		filter.category = value;
		return undefined;
	},
	package: (filter, value) => {
		filter.packageName = value;
		return undefined;
	},
	type: (filter, value) => {
		filter.packageType = value;
		return undefined;
	},
};

/** Apply one parameter to `filter`; a QueryError for a bad value. */
function applyParam(
	filter: Mutable<RegistryFilter>,
	key: string,
	values: readonly string[],
	search: boolean,
): QueryError | undefined {
	if (key === 'discovery') {
		// Every value is a filter, an empty one included.
		for (const each of values) {
			const parsed = discoveryFilter(each);
			if (typeof parsed === 'string') {
				return {error: `invalid 'discovery' query param: '${each}': ${parsed}`};
			}

			filter.discovery = [...(filter.discovery ?? []), parsed];
		}

		return undefined;
	}

	const setter = Object.hasOwn(common, key)
		? common[key]
		: search && Object.hasOwn(searchOnly, key)
			? searchOnly[key]
			: undefined;
	const value = values[0] ?? '';
	return setter && value !== '' ? setter(filter, value) : undefined;
}

function parse(
	rawQuery: string,
	search: boolean,
): {filter: RegistryFilter; query: Map<string, string[]>} | QueryError {
	const query = parseGoQuery(rawQuery);
	const filter = emptyFilter();
	for (const [key, values] of query) {
		const error = applyParam(filter, key, values, search);
		if (error) {
			return error;
		}
	}

	return {filter, query};
}

/** The filter of a `/search` query (the raw query string, without `?`). */
export function parseSearchQuery(rawQuery: string): RegistryFilter | QueryError {
	const parsed = parse(rawQuery, true);
	return 'error' in parsed ? parsed : parsed.filter;
}

/** The filter of a `/categories` query: `category`, `package`, `type` and `all` are ignored. */
export function parseCategoriesQuery(rawQuery: string): CategoriesQuery | QueryError {
	const parsed = parse(rawQuery, false);
	if ('error' in parsed) {
		return parsed;
	}

	const value = parsed.query.get('include_policy_templates')?.[0] ?? '';
	let includePolicyTemplates = false;
	if (value !== '') {
		const flag = parseGoBool(value);
		if (flag === undefined) {
			return {error: `invalid 'include_policy_templates' query param: '${value}'`};
		}

		includePolicyTemplates = flag;
	}

	return {filter: parsed.filter, includePolicyTemplates};
}

/** Whether a parse failed. */
export function isQueryError(value: unknown): value is QueryError {
	return typeof value === 'object' && value !== null && 'error' in value;
}
