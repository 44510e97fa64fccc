/**
The registry's filters at their edges, against the fake registry holding the same
versions: policy templates found through a parent category, a single template
without categories, 0.x and prerelease versions under the legacy `experimental`
selection, agent conditions, capabilities, spec bounds, constraint syntaxes, and
names that sort by bytes.
*/
import test from 'ava';
import {dirLocation} from '../src/store/location.js';
import {type FakePackageSpec, type FakeRegistry, startFakeRegistry} from './helpers/fake-registry.js';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {publishPackages} from './helpers/package-mirror.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const edges: FakePackageSpec[] = [
	{
		name: 'webby',
		version: '1.0.0',
		categories: ['custom'],
		policyTemplates: [
			{name: 'a', title: 'A', description: 'a', categories: ['web']},
			{name: 'b', title: 'B', description: 'b', categories: ['observability', 'security']},
			{name: 'c', title: 'C', description: 'c'},
		],
	},
	{
		name: 'single_tpl',
		version: '2.0.0',
		categories: ['security'],
		policyTemplates: [{name: 'only', title: 'Only', description: 'only'}],
	},
	{name: 'preview', version: '0.1.0', categories: ['custom']},
	{name: 'preview', version: '0.2.0-beta1', categories: ['custom']},
	{name: 'preview', version: '1.0.0-rc1', categories: ['custom']},
	{name: 'stable', version: '1.0.0', categories: ['custom']},
	{name: 'stable', version: '1.1.0-next.1', categories: ['custom']},
	{name: 'agentish', version: '1.0.0', agent: '^8.12.0', categories: ['custom']},
	{name: 'caps', version: '1.0.0', capabilities: ['apm', 'uptime'], categories: ['custom']},
	{name: 'spec_old', version: '1.0.0', formatVersion: '1.0.0', categories: ['custom']},
	{name: 'spec_new', version: '1.0.0', formatVersion: '3.5.1', categories: ['custom']},
	{name: 'tilde', version: '1.0.0', kibana: '~8.15', categories: ['custom']},
	{name: 'xrange', version: '1.0.0', kibana: '8.x', categories: ['custom']},
	{name: 'spaced', version: '1.0.0', kibana: '>=8.0.0 <8.17.0', categories: ['custom']},
	{name: 'a_b', version: '1.0.0', categories: ['custom']},
	{name: 'ab', version: '1.0.0', categories: ['custom']},
	{name: 'a1', version: '1.0.0', categories: ['custom']},
	{name: 'lab', version: '1.0.0', release: 'experimental', categories: ['custom']},
	{name: 'pre_kibana', version: '1.0.0', kibana: '>=8.0.0-0 <10.0.0', categories: ['custom']},
	{name: 'pre_or', version: '1.0.0', kibana: '^8.0.0 || >=9.1.0-0', categories: ['custom']},
];

const shared = sharedTeardown();
let fake: FakeRegistry;
let mirrorUrl: string;

test.before(async () => {
	fake = await startFakeRegistry({key: await createTestKey(), packages: edges});
	shared.teardown(() => fake.close());
	const dir = await tempDir(shared, 'serve-packages-edges-');
	await publishPackages(dirLocation(dir), fake.packages);
	mirrorUrl = (await withServer(shared, dir)).url;
});

test.after.always(() => shared.run());

const paths = [
	'/search',
	'/search?category=web',
	'/search?category=observability',
	'/search?category=security',
	'/search?category=custom',
	'/search?all=true',
	'/search?prerelease=true',
	'/search?all=true&prerelease=true',
	'/search?experimental=true',
	'/search?experimental=true&all=true',
	'/search?experimental=true&prerelease=true',
	'/search?agent.version=8.11.0',
	'/search?agent.version=8.13',
	'/search?capabilities=apm',
	'/search?capabilities=apm,uptime',
	'/search?capabilities=',
	'/search?spec.max=1.0',
	'/search?spec.min=3.5',
	'/search?spec.min=3.6',
	'/search?kibana.version=8.15.3',
	'/search?kibana.version=8.16.0',
	'/search?kibana.version=8.20.0',
	'/search?kibana.version=9.0.0',
	'/search?kibana.version=9.1.0-SNAPSHOT',
	'/search?kibana.version=8.19.0-SNAPSHOT',
	'/search?kibana.version=9.2.0-SNAPSHOT',
	'/categories',
	'/categories?include_policy_templates=true',
	'/categories?include_policy_templates=1&prerelease=true',
	'/categories?kibana.version=8.16.0&include_policy_templates=true',
];

for (const path of paths) {
	test(`${path} answers what the registry answers`, async (t) => {
		const [expected, actual] = await Promise.all([request(fake.url, path), request(mirrorUrl, path)]);
		t.is(actual.status, expected.status);
		t.is(actual.text, expected.text);
		t.is(actual.headers['content-type'], expected.headers['content-type']);
	});
}
