/**
serve answers as an Elastic Package Registry for the package versions the mirror
holds: the fake registry, holding exactly the same versions, is the reference for
every /search, /categories and /package answer, byte for byte.
*/
import test from 'ava';
import {dirLocation} from '../src/store/location.js';
import {type FakeRegistry, standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {publishPackages} from './helpers/package-mirror.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const shared = sharedTeardown();
let fake: FakeRegistry;
let mirrorUrl: string;

test.before(async () => {
	const key = await createTestKey();
	// The mirror never holds a version whose signature fails: the reference holds the same set.
	fake = await startFakeRegistry({key, packages: standardPackages.filter((spec) => !spec.badSignature)});
	shared.teardown(() => fake.close());
	const dir = await tempDir(shared, 'serve-packages-');
	await publishPackages(dirLocation(dir), fake.packages);
	mirrorUrl = (await withServer(shared, dir)).url;
});

test.after.always(() => shared.run());

/**
The parts of an answer the registry decides. The mirror keeps search and categories
answers cached for a minute where the registry says ten (a sync changes them).
*/
async function answer(base: string, path: string) {
	const response = await request(base, path);
	const lifetime = base === fake.url && /^\/(search|categories)\b/.test(path) ? /^max-age=600,/ : /^$/;
	return {
		status: response.status,
		contentType: response.headers['content-type'],
		cacheControl: response.headers['cache-control']?.replace(lifetime, 'max-age=60,'),
		cors: response.headers['access-control-allow-origin'],
		body: response.text,
	};
}

const searchQueries = [
	'',
	'kibana.version=8.12.0',
	'kibana.version=8.15.0',
	'kibana.version=9.0.0',
	'kibana.version=9.1.0',
	'kibana.version=9.2.0',
	'kibana.version=9.1.0&prerelease=true',
	'kibana.version=8.16',
	'kibana.version=v9.0.0',
	'kibana.version=7.17.0',
	'package=nginx',
	'package=nginx&all=true',
	'package=nginx&all=true&prerelease=true',
	'package=nginx&kibana.version=8.14.0',
	'package=nope',
	'all=true',
	'all=true&prerelease=true',
	'prerelease=true',
	'prerelease=1',
	'category=web',
	'category=observability',
	'category=observability&kibana.version=9.0.0',
	'category=security',
	'category=security&capabilities=security',
	'category=custom',
	'category=custom_logs&all=true',
	'category=aws',
	'type=input',
	'type=input&all=true&kibana.version=9.1.0',
	'type=content',
	'spec.min=3.0',
	'spec.max=2.10',
	'spec.min=3.1&spec.max=3.3',
	'spec.min=3.4&kibana.version=9.0.0',
	'capabilities=security',
	'capabilities=observability,security',
	'capabilities=observability',
	'experimental=true',
	'experimental=true&all=true',
	'agent.version=8.15.0',
	'discovery=fields:host.name',
	'unknown=1&kibana.version=9.0.0',
	'package=nginx&package=aws',
	'kibana.version=abc',
	'kibana.version=9.0.0.1',
	'all=maybe',
	'prerelease=2',
	'experimental=x',
	'spec.min=3',
	'spec.max=3.x',
	'spec.min=3.0.0',
	'discovery=foo',
	'discovery=bar:x',
	'discovery=',
	'agent.version=x.y',
];

for (const query of searchQueries) {
	test(`/search?${query} answers what the registry answers`, async (t) => {
		const path = `/search${query ? `?${query}` : ''}`;
		const [expected, actual] = await Promise.all([answer(fake.url, path), answer(mirrorUrl, path)]);
		t.deepEqual(actual, expected);
	});
}

const categoryQueries = [
	'',
	'kibana.version=9.0.0',
	'kibana.version=8.15.0',
	'prerelease=true',
	'include_policy_templates=true',
	'include_policy_templates=true&prerelease=true',
	'include_policy_templates=false',
	'category=web&type=input&package=nginx&all=true',
	'capabilities=security',
	'spec.min=3.0',
	'experimental=true',
	'include_policy_templates=maybe',
	'kibana.version=bad',
	'spec.max=1',
];

for (const query of categoryQueries) {
	test(`/categories?${query} answers what the registry answers`, async (t) => {
		const path = `/categories${query ? `?${query}` : ''}`;
		const [expected, actual] = await Promise.all([answer(fake.url, path), answer(mirrorUrl, path)]);
		t.deepEqual(actual, expected);
	});
}

const packagePaths = [
	'/package/nginx/1.5.0/',
	'/package/nginx/2.1.0-beta.1/',
	'/package/aws/3.0.0/',
	'/package/filelog_input/1.2.0/',
	'/package/nginx/9.9.9/',
	'/package/nope/1.0.0/',
	'/package/nginx/1.5/',
	'/package/nginx/v1.5.0/',
	'/package/nginx/1.5.0/docs/README.md',
	'/package/nginx/1.5.0/manifest.yml',
	'/package/nginx/1.5.0/img/icon.svg',
	'/package/filelog_input/1.2.0/agent/input/input.yml.hbs',
	'/package/nginx/1.5.0/docs/missing.md',
	'/package/nginx/9.9.9/docs/README.md',
	'/package/nginx/1.5/docs/README.md',
	'/epr/nginx/nginx-9.9.9.zip',
	'/epr/nginx/nginx-9.9.9.zip.sig',
	'/epr/nginx/nginx-1.x.zip',
	'/health',
];

for (const path of packagePaths) {
	test(`${path} answers what the registry answers`, async (t) => {
		const [expected, actual] = await Promise.all([answer(fake.url, path), answer(mirrorUrl, path)]);
		t.deepEqual(actual, expected);
	});
}

for (const path of [
	'/search/?package=nginx',
	'/categories/',
	'/health/',
	'/package/nginx/1.5.0',
	'/package/nginx/1.5.0/docs/',
	'/epr/nginx/nginx-1.5.0.zip/',
	'/epr/nginx/nginx-1.5.0.zip.sig/',
]) {
	test(`${path} is redirected where the registry redirects it`, async (t) => {
		const [expected, actual] = await Promise.all([request(fake.url, path), request(mirrorUrl, path)]);
		t.is(actual.status, expected.status);
		t.is(actual.status, 301);
		// The mirror's Location is relative (it may be mounted below a path); it resolves to the same place.
		const resolve = (base: string, location: string | undefined) => {
			const url = new URL(location ?? '', `${base}${path}`);
			return url.pathname + url.search;
		};
		t.is(resolve(mirrorUrl, actual.headers.location), resolve(fake.url, expected.headers.location));
		t.is(actual.headers['content-type'], expected.headers['content-type']);
	});
}

test('/package/<n>/<v> without its slash is sent to the package info, as the registry does', async (t) => {
	const response = await request(mirrorUrl, '/package/nginx/1.5.0');
	t.is(response.status, 301);
	t.is(
		new URL(response.headers.location ?? '', `${mirrorUrl}/package/nginx/1.5.0`).pathname,
		'/package/nginx/1.5.0/',
	);
	const followed = await fetch(`${mirrorUrl}/package/nginx/1.5.0`);
	t.is(await followed.text(), await (await fetch(`${fake.url}/package/nginx/1.5.0/`)).text());
});
