/**
The fake package registry against facts read from Elastic's package-registry source
(docs/package-registry.md): what /search and /categories answer for each parameter, the package
info's field order, the zips, the signatures, and the registry's error texts.
Over 300 lines because it is mostly tables of queries and their answers.
*/
import test from 'ava';
import * as openpgp from 'openpgp';
import YAML from 'yaml';
import yauzl from 'yauzl';
import {type FakeRegistry, standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {parseConstraint, parseLooseVersion, satisfies} from './helpers/fake-registry-semver.js';
import {createTestKey, type TestKey} from './helpers/keys.js';

let key: TestKey;
let registry: FakeRegistry;

test.before(async () => {
	key = await createTestKey();
	registry = await startFakeRegistry({key, packages: standardPackages});
});
test.after.always(() => registry?.close());

const get = (path: string, init?: RequestInit) =>
	fetch(`${registry.url}${path}`, {redirect: 'manual', ...init});
const found = async (path: string) =>
	((await (await get(path)).json()) as {name: string; version: string}[]).map(
		(p) => `${p.name}@${p.version}`,
	);

const everyNewest = [
	'apache_dashboards@1.0.0',
	'apache_otel@1.2.0',
	'aws@3.0.0',
	'filelog_input@2.0.0',
	'nginx@2.0.0',
	'security_ai@1.0.0',
	'system@1.60.0',
	'tampered@1.0.0',
];

const searchTable: [string, string[]][] = [
	['', everyNewest],
	['?unknown=1', everyNewest],
	['?kibana.version=8.12.0', ['nginx@1.0.0', 'system@1.60.0']],
	[
		'?kibana.version=8.15.0',
		['aws@3.0.0', 'filelog_input@1.2.0', 'nginx@1.5.0', 'system@1.60.0', 'tampered@1.0.0'],
	],
	[
		'?kibana.version=8.15',
		['aws@3.0.0', 'filelog_input@1.2.0', 'nginx@1.5.0', 'system@1.60.0', 'tampered@1.0.0'],
	],
	['?kibana.version=9.1.0', everyNewest],
	[
		'?kibana.version=9.1.0&prerelease=true',
		[...everyNewest.filter((p) => !p.startsWith('nginx')), 'nginx@2.1.0-beta.1', 'tomcat@0.9.0'].sort(),
	],
	['?kibana.version=9.2.0', everyNewest],
	// A prerelease Kibana version only passes constraints that name a prerelease (Masterminds).
	['?kibana.version=9.1.0-SNAPSHOT', ['system@1.60.0']],
	['?package=nginx', ['nginx@2.0.0']],
	['?package=nginx&all=true', ['nginx@1.0.0', 'nginx@1.5.0', 'nginx@2.0.0']],
	['?package=nginx&all=1&prerelease=t', ['nginx@1.0.0', 'nginx@1.5.0', 'nginx@2.0.0', 'nginx@2.1.0-beta.1']],
	['?package=filelog_input&kibana.version=9.1.0&all=true', ['filelog_input@1.2.0', 'filelog_input@2.0.0']],
	['?package=nginx&kibana.version=8.9.0', []],
	['?type=input', ['filelog_input@2.0.0']],
	['?type=content', ['apache_dashboards@1.0.0']],
	['?category=web', ['apache_dashboards@1.0.0', 'apache_otel@1.2.0', 'nginx@2.0.0']],
	// A parent category finds its subcategories' packages, and packages through their policy templates.
	[
		'?category=observability',
		['apache_dashboards@1.0.0', 'apache_otel@1.2.0', 'aws@3.0.0', 'nginx@2.0.0', 'system@1.60.0'],
	],
	['?category=custom', ['filelog_input@2.0.0', 'tampered@1.0.0']],
	['?spec.min=3.1&spec.max=3.3', ['aws@3.0.0']],
	['?spec.max=2.10', ['system@1.60.0']],
	['?spec.min=3.4', ['apache_dashboards@1.0.0']],
	['?capabilities=observability', everyNewest.filter((p) => p !== 'security_ai@1.0.0')],
	['?capabilities=observability,security', everyNewest],
	['?experimental=true', [...everyNewest, 'tomcat@0.9.0'].sort()],
	['?discovery=fields:process.pid', []],
];

for (const [query, expected] of searchTable) {
	test(`/search${query}`, async (t) => {
		t.deepEqual(await found(`/search${query}`), expected);
	});
}

test('/search answers Go-style JSON with the registry headers, and [] without a newline when empty', async (t) => {
	const response = await get('/search?package=system');
	t.is(response.headers.get('content-type'), 'application/json');
	t.is(response.headers.get('cache-control'), 'max-age=600, public');
	t.is(response.headers.get('access-control-allow-origin'), '*');
	const text = await response.text();
	t.true(
		text.startsWith('[\n  {\n    "name": "system",\n    "title": "System",\n    "version": "1.60.0",\n'),
	);
	t.true(text.endsWith('\n  }\n]\n'));
	t.is(await (await get('/search?package=none')).text(), '[]');
});

test('a package matching a category only through a policy template keeps just those templates', async (t) => {
	const [aws] = (await (await get('/search?category=security')).json()) as {
		name: string;
		policy_templates: {name: string}[];
	}[];
	t.is(aws?.name, 'aws');
	t.deepEqual(
		aws?.policy_templates.map((p) => p.name),
		['cloudtrail'],
	);
	const [viaParent] = (await (await get('/search?category=observability&package=aws')).json()) as {
		policy_templates: {name: string}[];
	}[];
	// filterPolicyTemplates keeps the templates that name the category itself.
	t.deepEqual(
		viaParent?.policy_templates.map((p) => p.name),
		['ec2'],
	);
});

const badQueries: [string, string][] = [
	['/search?all=maybe', "invalid 'all' query param: 'maybe'"],
	['/search?prerelease=foo', "invalid 'prerelease' query param: 'foo'"],
	['/search?experimental=foo', "invalid 'experimental' query param: 'foo'"],
	['/search?kibana.version=x', "invalid Kibana version 'x': invalid semantic version"],
	['/search?agent.version=x', "invalid agent version 'x': invalid semantic version"],
	['/search?kibana.version=9.0.0-01', "invalid Kibana version '9.0.0-01': version segment starts with 0"],
	[
		'/search?spec.max=2.10.1',
		"invalid 'spec.max' version: invalid version '2.10.1': it should be <major.version>",
	],
	[
		'/search?spec.min=a.b',
		"invalid 'spec.min' version: invalid spec version 'a.b': invalid semantic version",
	],
	['/search?discovery=foo', `invalid 'discovery' query param: 'foo': could not parse filter "foo"`],
	['/categories?include_policy_templates=foo', "invalid 'include_policy_templates' query param: 'foo'"],
	['/categories?prerelease=foo', "invalid 'prerelease' query param: 'foo'"],
];

for (const [path, message] of badQueries) {
	test(`400 for ${path}`, async (t) => {
		const response = await get(path);
		t.is(response.status, 400);
		t.is(response.headers.get('content-type'), 'text/plain; charset=utf-8');
		t.is(response.headers.get('cache-control'), 'max-age=0, private, no-store');
		t.is(await response.text(), `${message}\n`);
	});
}

type Count = {id: string; title: string; count: number; parent_id?: string; parent_title?: string};
const counts = async (path: string) =>
	Object.fromEntries(((await (await get(path)).json()) as Count[]).map((c) => [c.id, c.count]));

test('/categories counts the newest matching version of each package, with titles and parents', async (t) => {
	const all = (await (await get('/categories')).json()) as Count[];
	t.deepEqual(
		all.map((c) => c.id),
		[
			'aws',
			'cloud',
			'custom',
			'custom_logs',
			'observability',
			'opentelemetry',
			'os_system',
			'security',
			'web',
		],
	);
	t.deepEqual(
		all.find((c) => c.id === 'web'),
		{id: 'web', title: 'Web Server', count: 3, parent_id: 'observability', parent_title: 'Observability'},
	);
	t.deepEqual(await counts('/categories?kibana.version=8.15.0'), {
		aws: 1,
		cloud: 1,
		custom: 1,
		custom_logs: 1,
		web: 1,
		os_system: 1,
		observability: 1,
	});
	// category, type, package and all are not /categories parameters.
	t.deepEqual(
		await counts('/categories?category=web&type=input&package=nginx&all=true'),
		await counts('/categories'),
	);
	// include_policy_templates counts the package again per template, and template categories twice.
	const withTemplates = await counts('/categories?include_policy_templates=true');
	t.is(withTemplates.aws, 3);
	t.is(withTemplates.security, 3);
	t.is(withTemplates.observability, 3);
});

test('package info has the fields of the Go structs in their order', async (t) => {
	const response = await get('/package/aws/3.0.0/');
	t.is(response.headers.get('cache-control'), 'max-age=10, public');
	const info = (await response.json()) as Record<string, unknown>;
	t.deepEqual(Object.keys(info), [
		'name',
		'title',
		'version',
		'release',
		'description',
		'type',
		'download',
		'path',
		'icons',
		'conditions',
		'owner',
		'categories',
		'signature_path',
		'format_version',
		'readme',
		'license',
		'assets',
		'policy_templates',
	]);
	t.is(info.download, '/epr/aws/aws-3.0.0.zip');
	t.is(info.signature_path, '/epr/aws/aws-3.0.0.zip.sig');
	t.deepEqual(info.assets, [
		'/package/aws/3.0.0/manifest.yml',
		'/package/aws/3.0.0/docs/README.md',
		'/package/aws/3.0.0/img/icon.svg',
	]);
	const otel = (await (await get('/package/apache_otel/1.2.0/')).json()) as Record<string, unknown>;
	t.deepEqual(otel.requires, {
		input: [{package: 'filelog_input', version: '^1.1.0'}],
		content: [{package: 'apache_dashboards', version: '^1.0.0'}],
	});
	const ai = (await (await get('/package/security_ai/1.0.0/')).json()) as Record<string, unknown>;
	t.deepEqual(ai.conditions, {
		kibana: {version: '^9.0.0'},
		elastic: {subscription: 'enterprise', capabilities: ['security']},
	});
	t.is(ai.license, 'enterprise');
	const redirect = await get('/package/aws/3.0.0?x=1');
	t.is(redirect.status, 301);
	t.is(redirect.headers.get('location'), '/package/aws/3.0.0/?x=1');
});

function zipEntries(zip: Buffer): Promise<Map<string, Buffer>> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(zip, {lazyEntries: true}, (error, archive) => {
			if (error || !archive) {
				return reject(error);
			}
			const entries = new Map<string, Buffer>();
			archive.on('entry', (entry: yauzl.Entry) => {
				archive.openReadStream(entry, async (streamError, stream) => {
					if (streamError || !stream) {
						return reject(streamError);
					}
					const chunks: Buffer[] = [];
					for await (const chunk of stream) {
						chunks.push(chunk as Buffer);
					}
					entries.set(entry.fileName, Buffer.concat(chunks));
					archive.readEntry();
				});
			});
			archive.on('end', () => resolve(entries));
			archive.readEntry();
		});
	});
}

test('the zip has one top folder whose manifest names the package; its files are served from it', async (t) => {
	const response = await get('/epr/filelog_input/filelog_input-1.2.0.zip');
	t.is(response.headers.get('content-type'), 'application/zip');
	const zip = Buffer.from(await response.arrayBuffer());
	t.is(Number(response.headers.get('content-length')), zip.length);
	const entries = await zipEntries(zip);
	t.deepEqual(
		[...entries.keys()],
		[
			'filelog_input-1.2.0/',
			'filelog_input-1.2.0/agent/',
			'filelog_input-1.2.0/agent/input/',
			'filelog_input-1.2.0/agent/input/input.yml.hbs',
			'filelog_input-1.2.0/docs/',
			'filelog_input-1.2.0/docs/README.md',
			'filelog_input-1.2.0/img/',
			'filelog_input-1.2.0/img/icon.svg',
			'filelog_input-1.2.0/manifest.yml',
		],
	);
	const manifest = YAML.parse(String(entries.get('filelog_input-1.2.0/manifest.yml'))) as Record<
		string,
		unknown
	>;
	t.like(manifest, {
		name: 'filelog_input',
		version: '1.2.0',
		type: 'input',
		conditions: {kibana: {version: '^8.15.0 || ^9.0.0'}},
	});
	const readme = await get('/package/filelog_input/1.2.0/docs/README.md');
	t.is(readme.headers.get('content-type'), 'text/markdown; charset=utf-8');
	t.deepEqual(Buffer.from(await readme.arrayBuffer()), entries.get('filelog_input-1.2.0/docs/README.md'));
	const icon = await get('/package/filelog_input/1.2.0/img/icon.svg');
	t.is(icon.headers.get('content-type'), 'image/svg+xml');
	const range = await get('/epr/filelog_input/filelog_input-1.2.0.zip', {headers: {range: 'bytes=0-3'}});
	t.is(range.status, 206);
	t.deepEqual(Buffer.from(await range.arrayBuffer()), zip.subarray(0, 4));
	const lastModified = response.headers.get('last-modified') ?? '';
	t.is(
		(await get('/epr/filelog_input/filelog_input-1.2.0.zip', {headers: {'if-modified-since': lastModified}}))
			.status,
		304,
	);
});

async function verifies(signature: string, data: Uint8Array): Promise<boolean> {
	const result = await openpgp.verify({
		message: await openpgp.createMessage({binary: data}),
		signature: await openpgp.readSignature({armoredSignature: signature}),
		verificationKeys: await openpgp.readKey({armoredKey: key.armoredPublic}),
		format: 'binary',
	});
	return (
		result.signatures[0]?.verified.then(
			() => true,
			() => false,
		) ?? false
	);
}

test('signatures verify with openpgp like Kibana checks them, except the tampered one', async (t) => {
	for (const [name, version, good] of [
		['nginx', '2.0.0', true],
		['tampered', '1.0.0', false],
	] as const) {
		const zip = new Uint8Array(await (await get(`/epr/${name}/${name}-${version}.zip`)).arrayBuffer());
		const signature = await get(`/epr/${name}/${name}-${version}.zip.sig`);
		t.is(signature.headers.get('content-type'), 'application/pgp-signature');
		t.is(await verifies(await signature.text(), zip), good);
	}
});

test('error answers carry the registry texts', async (t) => {
	const cases: [string, number, string][] = [
		['/package/nginx/9.9.9/', 404, 'package revision not found\n'],
		['/package/missing/1.0.0/', 404, 'package revision not found\n'],
		['/package/nginx/a.b.c/', 400, 'invalid package version\n'],
		['/package/nginx/2.0.0/docs/missing.md', 404, 'resource not found\n'],
		['/epr/nginx/nginx-9.9.9.zip', 404, 'artifact not found\n'],
		['/epr/nginx/nginx-9.9.9.zip.sig', 404, 'signature file not found\n'],
		['/epr/nginx/nginx-a.b.zip', 400, 'invalid package version\n'],
		['/nothing/here', 404, '404 page not found\n'],
	];
	for (const [path, status, text] of cases) {
		const response = await get(path);
		t.is(response.status, status, path);
		t.is(await response.text(), text, path);
	}
	// StrictSlash(true): the other form of a route's path is redirected to the route's own.
	for (const [path, location] of [
		['/search/?package=nginx', '/search?package=nginx'],
		['/package/nginx/2.0.0', '/package/nginx/2.0.0/'],
		['/package/nginx/2.0.0/docs/', '/package/nginx/2.0.0/docs'],
		['/epr/nginx/nginx-2.0.0.zip/', '/epr/nginx/nginx-2.0.0.zip'],
	]) {
		const response = await get(path as string);
		t.is(response.status, 301, path);
		t.is(response.headers.get('location'), location as string);
	}
	t.is((await get('/health')).status, 200);
	t.deepEqual(await (await get('/')).json(), {
		'service.name': 'package-registry',
		'service.version': '1.40.1',
	});
});

test('faults, publishing while running, removal and the request log', async (t) => {
	const own = await startFakeRegistry({key, packages: []});
	t.teardown(() => own.close());
	const at = (path: string) => fetch(`${own.url}${path}`);
	own.fault('/search', {statuses: [503]});
	t.is((await at('/search')).status, 503);
	t.is(await (await at('/search')).text(), '[]');
	const made = await own.add({
		name: 'late',
		version: '1.0.0',
		kibana: '^9.0.0',
		manifestVersionMismatch: true,
		infoMismatch: true,
	});
	t.is(made.zipPath, 'epr/late/late-1.0.0.zip');
	t.deepEqual(
		((await (await at('/search')).json()) as {version: string}[]).map((p) => p.version),
		['1.0.0'],
	);
	t.is(((await (await at('/package/late/1.0.0/')).json()) as {version: string}).version, '1.0.1');
	t.like(YAML.parse(String(made.files.get('manifest.yml'))), {version: '1.0.1'});
	own.remove('late', '1.0.0');
	t.is((await at('/package/late/1.0.0/')).status, 404);
	t.deepEqual(
		own.requests.map((r) => `${r.status} ${r.path}`),
		['503 /search', '200 /search', '200 /search', '200 /package/late/1.0.0/', '404 /package/late/1.0.0/'],
	);
});

test('Masterminds constraint semantics', (t) => {
	const table: [string, string, boolean][] = [
		['8.13.0', '^8.13.0 || ^9.0.0', true],
		['9.4.1', '^8.13.0 || ^9.0.0', true],
		['10.0.0', '>=8.14.0, <10.0.0', false],
		['8.14.0', '>=8.14.0 <10.0.0', true],
		['9.0.0-SNAPSHOT', '^9.0.0', false],
		['9.1.0-SNAPSHOT', '^9.0.0', false],
		['9.0.0-SNAPSHOT', '^9.0.0-0', true],
		['9.1.0-SNAPSHOT', '>=8.0.0-0', true],
		['7.17.3', '~7.x.x', true],
		['8.0.0', '>7', true],
		['7.9.0', '>7', false],
		['8.1.5', '8.1', true],
		['8.2.0', '8.1', false],
		['8.2.0', '!=8.2.0', false],
		['8.2.1', '!=8.2.0', true],
		['1.3.0', '1.2 - 1.4', true],
		['1.5.0', '1.2 - 1.4', false],
		['0.0.4', '^0.0.3', false],
		['0.2.9', '^0.2.3', true],
		['8.3.0', '<=8.2', false],
		['8.2.9', '<=8.2', true],
	];
	for (const [version, constraint, expected] of table) {
		t.is(satisfies(version, parseConstraint(constraint)), expected, `${version} ${constraint}`);
	}
	t.deepEqual(parseLooseVersion('v8.13'), {version: '8.13.0'});
	t.deepEqual(parseLooseVersion('9.1.0-SNAPSHOT'), {version: '9.1.0-SNAPSHOT'});
	t.throws(() => parseConstraint('^8.13.0 ||'), {message: /^improper constraint/});
});
