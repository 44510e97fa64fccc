/** The pure pieces of the registry API: Go's parsing and JSON, and the discovery filter the fake registry does not model. */
import test from 'ava';
import {goJsonPretty, parseGoQuery, parseLooseVersion} from '../src/packages/go-compat.js';
import {parseCategoriesQuery, parseSearchQuery} from '../src/packages/registry-query.js';
import {applyFilter, candidateOf} from '../src/packages/registry-search.js';
import type {PackageEntry} from '../src/store/manifest.js';

test('versions are read as Masterminds NewVersion reads them', (t) => {
	t.like(parseLooseVersion('8'), {major: 8, minor: 0, patch: 0});
	t.like(parseLooseVersion('8.15'), {major: 8, minor: 15, patch: 0});
	t.like(parseLooseVersion('v9.1.0-SNAPSHOT+abc'), {
		major: 9,
		minor: 1,
		prerelease: 'SNAPSHOT',
		metadata: 'abc',
	});
	t.like(parseLooseVersion('08.01.0'), {major: 8, minor: 1});
	t.deepEqual(parseLooseVersion('9.0.0.1'), {error: 'invalid semantic version'});
	t.deepEqual(parseLooseVersion('1.0.0-01'), {error: 'version segment starts with 0'});
	t.deepEqual(parseLooseVersion('99999999999999999999'), {
		error:
			'error parsing version segment: strconv.ParseUint: parsing "99999999999999999999": value out of range',
	});
});

test('queries are split as url.ParseQuery splits them', (t) => {
	const query = parseGoQuery('a=1&a=2&b=x+y&c;d=1&e=%zz&f&=g');
	t.deepEqual(query.get('a'), ['1', '2']);
	t.deepEqual(query.get('b'), ['x y']);
	t.false(query.has('c;d'));
	t.false(query.has('e'));
	t.deepEqual(query.get('f'), ['']);
	t.deepEqual(query.get(''), ['g']);
});

test('JSON is written as Go writes it: no HTML escaping, U+2028/9 escaped, a final newline', (t) => {
	t.is(
		goJsonPretty({a: '<b>&', c: 'x\u2028y\u2029', d: []}),
		'{\n  "a": "<b>&",\n  "c": "x\\u2028y\\u2029",\n  "d": []\n}\n',
	);
	t.is(goJsonPretty([]), '[]\n');
});

test('bad values are refused with the registry messages; /categories ignores search-only parameters', (t) => {
	t.deepEqual(parseSearchQuery('kibana.version=nine'), {
		error: "invalid Kibana version 'nine': invalid semantic version",
	});
	t.deepEqual(parseSearchQuery('spec.min=3'), {
		error: "invalid 'spec.min' version: invalid version '3': it should be <major.version>",
	});
	t.deepEqual(parseSearchQuery('discovery=fields'), {
		error: `invalid 'discovery' query param: 'fields': could not parse filter "fields"`,
	});
	t.like(parseCategoriesQuery('all=maybe&type=x&category=y&package=z'), {includePolicyTemplates: false});
	t.deepEqual(parseCategoriesQuery('include_policy_templates=2'), {
		error: "invalid 'include_policy_templates' query param: '2'",
	});
});

function entry(name: string, discovery?: Record<string, unknown>): PackageEntry {
	return {
		path: `epr/${name}/${name}-1.0.0.zip`,
		name,
		version: '1.0.0',
		size: 1,
		sha512: '',
		signature: {size: 1, sha512: ''},
		info: {size: 1, sha512: ''},
		formatVersion: '3.0.0',
		search: {name, version: '1.0.0', release: 'ga', type: 'integration', ...(discovery ? {discovery} : {})},
		publishedAt: '2026-01-01T00:00:00.000Z',
	};
}

test('discovery: fields match when all of a package fields are asked for, datasets when any is', (t) => {
	const candidates = [
		entry('both', {fields: [{name: 'host.name'}, {name: 'event.dataset'}]}),
		entry('one', {fields: [{name: 'host.name'}], datasets: [{name: 'nginx.access'}]}),
		entry('none'),
	].map(candidateOf);
	const names = (query: string) => {
		const filter = parseSearchQuery(query);
		return 'error' in filter ? filter.error : applyFilter(filter, candidates).map((each) => each.name);
	};

	t.deepEqual(names('discovery=fields:host.name'), ['one']);
	t.deepEqual(names('discovery=fields:host.name,event.dataset'), ['both', 'one']);
	t.deepEqual(names('discovery=datasets:nginx.access,other'), ['one']);
	t.deepEqual(names('discovery=fields:host.name,event.dataset&discovery=datasets:nginx.access'), ['one']);
	t.deepEqual(names(''), ['both', 'none', 'one']);
});
