import test from 'ava';
import {UsageError} from '../src/errors.js';
import {needsVersionList, parseVersionList, parseVersionSpecs, resolveVersions} from '../src/versions.js';

const available = [
	'8.17.0',
	'8.17.4',
	'8.18.1',
	'8.19.2',
	'9.0.2',
	'9.1.0',
	'9.1.3',
	'9.2.0-SNAPSHOT',
	'9.1.4-SNAPSHOT',
	'9.1.3+build1',
];
const resolve = (...items: string[]) => resolveVersions(parseVersionSpecs(items, '--versions'), available);

test('exact versions are taken as given, build metadata included, and need no API', (t) => {
	const specs = parseVersionSpecs(['9.1.3', '8.14.0+build202406201002', 'v9.0.0'], '--versions');
	t.false(needsVersionList(specs));
	t.deepEqual(resolveVersions(specs, []).versions, ['8.14.0+build202406201002', '9.0.0', '9.1.3']);
});

test('latest is the newest release, never a SNAPSHOT', (t) => {
	t.deepEqual(resolve('latest').versions, ['9.1.3']);
	t.true(needsVersionList(parseVersionSpecs(['latest'], 'x')));
});

test('ranges exclude prereleases and build-tagged versions unless they name a prerelease', (t) => {
	t.deepEqual(resolve('9.1.x').versions, ['9.1.0', '9.1.3']);
	t.deepEqual(resolve('>=8.17.0 <9').versions, ['8.17.0', '8.17.4', '8.18.1', '8.19.2']);
	t.deepEqual(resolve('9.1').versions, ['9.1.0', '9.1.3']);
	t.deepEqual(resolve('>=9.2.0-SNAPSHOT').versions, ['9.2.0-SNAPSHOT']);
	t.deepEqual(resolve('~8.17.0', 'latest', '9.1.3').versions, ['8.17.0', '8.17.4', '9.1.3']);
});

test('a range that matches nothing is a warning, not a crash', (t) => {
	const result = resolve('>=10');
	t.deepEqual(result.versions, []);
	t.regex(result.warnings[0] ?? '', /range ">=10" matches no version/);
});

test('junk is a usage error naming the item', (t) => {
	const error = t.throws(() => parseVersionSpecs(['9.1.0', 'nine'], '--versions'), {instanceOf: UsageError});
	t.regex(error?.message ?? '', /invalid version "nine" in --versions/);
	t.throws(() => parseVersionSpecs([' ', ''], 'MIRROR_VERSIONS'), {
		instanceOf: UsageError,
		message: /no versions selected/,
	});
});

test('the versions API answer is validated', (t) => {
	t.deepEqual(parseVersionList('{"versions":["9.1.0",7,"9.1.3"],"aliases":[]}'), ['9.1.0', '9.1.3']);
	t.throws(() => parseVersionList('<html>'), {message: /did not answer JSON/});
	t.throws(() => parseVersionList('{"items":[]}'), {message: /no "versions" list/});
});
