import test from 'ava';
import {
	artifactRef,
	classifyPath,
	getPlatform,
	getProduct,
	hasFipsBuilds,
	isMutableVersion,
	wantedArtifacts,
} from '../src/agent/catalog.js';
import {suggest} from '../src/suggest.js';

const agent = getProduct('elastic-agent');

test("file names and paths are exactly upstream's", (t) => {
	const names = (product: string, platforms: string[], version = '9.1.3') =>
		wantedArtifacts({products: [product], versions: [version], platforms, fips: false}).map(
			(ref) => ref.path,
		);

	t.deepEqual(
		names('elastic-agent', [
			'linux-x86_64',
			'linux-arm64',
			'darwin-x86_64',
			'darwin-aarch64',
			'windows-x86_64',
		]),
		[
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-arm64.tar.gz',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-darwin-x86_64.tar.gz',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-darwin-aarch64.tar.gz',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.zip',
		],
	);
	t.deepEqual(names('elastic-agent', ['deb-amd64', 'deb-arm64', 'rpm-x86_64', 'rpm-aarch64', 'msi-x86_64']), [
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-amd64.deb',
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-arm64.deb',
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-x86_64.rpm',
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-aarch64.rpm',
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.msi',
	]);
	t.deepEqual(names('fleet-server', ['linux-x86_64']), [
		'downloads/fleet-server/fleet-server-9.1.3-linux-x86_64.tar.gz',
	]);
	t.deepEqual(names('endpoint-security', ['linux-x86_64']), [
		'downloads/endpoint-dev/endpoint-security-9.1.3-linux-x86_64.tar.gz',
	]);
	t.deepEqual(names('apm-server', ['linux-x86_64']), [
		'downloads/apm-server/apm-server-9.1.3-linux-x86_64.tar.gz',
	]);
	t.deepEqual(names('filebeat', ['rpm-x86_64']), ['downloads/beats/filebeat/filebeat-9.1.3-x86_64.rpm']);
	t.deepEqual(names('cloudbeat', ['linux-arm64']), [
		'downloads/cloudbeat/cloudbeat-9.1.3-linux-arm64.tar.gz',
	]);
});

test('a product is not asked for platforms it does not build', (t) => {
	const refs = wantedArtifacts({
		products: ['fleet-server', 'cloudbeat'],
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'deb-amd64', 'windows-x86_64', 'msi-x86_64'],
		fips: false,
	});
	t.deepEqual(
		refs.map((ref) => `${ref.product}/${ref.platform}`),
		['fleet-server/linux-x86_64', 'fleet-server/windows-x86_64', 'cloudbeat/linux-x86_64'],
	);
});

test('versions keep prerelease and build metadata; a plus stays a plus', (t) => {
	const platform = getPlatform('linux-x86_64');
	if (!agent || !platform) {
		t.fail();
		return;
	}

	t.is(
		artifactRef(agent, '9.2.0-SNAPSHOT', platform).fileName,
		'elastic-agent-9.2.0-SNAPSHOT-linux-x86_64.tar.gz',
	);
	t.is(
		artifactRef(agent, '8.14.0+build202406201002', platform).path,
		'downloads/beats/elastic-agent/elastic-agent-8.14.0+build202406201002-linux-x86_64.tar.gz',
	);
});

test('FIPS builds are asked for on Linux from 8.19 and 9.1 on, only for elastic-agent', (t) => {
	t.false(hasFipsBuilds('8.18.3'));
	t.true(hasFipsBuilds('8.19.0'));
	t.false(hasFipsBuilds('9.0.4'));
	t.true(hasFipsBuilds('9.1.0'));
	t.true(hasFipsBuilds('10.0.0'));
	const refs = wantedArtifacts({
		products: ['elastic-agent', 'fleet-server'],
		versions: ['9.0.4', '9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
		fips: true,
	});
	t.deepEqual(
		refs.filter((ref) => ref.fips).map((ref) => ref.path),
		['downloads/beats/elastic-agent/elastic-agent-fips-9.1.3-linux-x86_64.tar.gz'],
	);
});

test('suggestions for near misses know architecture synonyms', (t) => {
	const ids = ['linux-x86_64', 'linux-arm64', 'darwin-aarch64', 'windows-x86_64', 'deb-amd64', 'rpm-aarch64'];
	t.is(suggest('linux-amd64', ids), 'linux-x86_64');
	t.is(suggest('linux_x86_64', ids), 'linux-x86_64');
	t.is(suggest('darwin-arm64', ids), 'darwin-aarch64');
	t.is(suggest('rpm-arm64', ids), 'rpm-aarch64');
	t.is(suggest('deb-x86_64', ids), 'deb-amd64');
	t.is(suggest('windows-x86-64', ids), 'windows-x86_64');
	t.is(suggest('elastic-agnet', ['elastic-agent', 'fleet-server']), 'elastic-agent');
	t.is(suggest('solaris-sparc', ids), undefined);
});

test('classifyPath recognizes artifacts, sidecars and keys, FIPS and prerelease included', (t) => {
	t.like(classifyPath('downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz'), {
		kind: 'artifact',
		ref: {product: 'elastic-agent', version: '9.1.3', platform: 'linux-x86_64', fips: false},
	});
	t.like(classifyPath('downloads/beats/elastic-agent/elastic-agent-fips-9.2.0-SNAPSHOT-amd64.deb.sha512'), {
		kind: 'sidecar',
		extension: '.sha512',
		ref: {product: 'elastic-agent', version: '9.2.0-SNAPSHOT', platform: 'deb-amd64', fips: true},
	});
	t.like(classifyPath('downloads/endpoint-dev/endpoint-security-8.19.4-windows-x86_64.zip.asc'), {
		kind: 'sidecar',
		ref: {product: 'endpoint-security', platform: 'windows-x86_64'},
	});
	t.like(classifyPath('downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.msi'), {
		ref: {platform: 'msi-x86_64'},
	});
	t.deepEqual(classifyPath('GPG-KEY-elastic-agent'), {kind: 'key', name: 'GPG-KEY-elastic-agent'});
	t.is(classifyPath('downloads/beats/elastic-agent/notes.txt'), undefined);
	t.is(classifyPath('downloads/beats/elastic-agent/elastic-agent-latest-linux-x86_64.tar.gz'), undefined);
	t.is(classifyPath('downloads/fleet-server/elastic-agent-9.1.3-linux-x86_64.tar.gz'), undefined);
	t.true(isMutableVersion('9.2.0-SNAPSHOT'));
	t.false(isMutableVersion('9.1.3'));
});
