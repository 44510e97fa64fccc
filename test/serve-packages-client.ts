/**
A directory mirror of packages as its users meet it: Kibana installing from it,
zips and signatures as tree files, files from inside the zips, a package published
while serving, the download metric, /api/v1/packages and the catalogue page.
*/
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import test from 'ava';
import {dirLocation} from '../src/store/location.js';
import {type FakeRegistry, standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {installLikeKibana} from './helpers/kibana-client.js';
import {checkServedFile, eventually} from './helpers/package-checks.js';
import {publishPackages} from './helpers/package-mirror.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const shared = sharedTeardown();
let key: TestKey;
let fake: FakeRegistry;
let dir: string;
let mirrorUrl: string;

test.before(async () => {
	key = await createTestKey();
	fake = await startFakeRegistry({key, packages: standardPackages.filter((spec) => !spec.badSignature)});
	shared.teardown(() => fake.close());
	dir = await tempDir(shared, 'serve-packages-client-');
	await publishPackages(dirLocation(dir), fake.packages);
	mirrorUrl = (await withServer(shared, dir)).url;
});

test.after.always(() => shared.run());

function fakePackage(name: string, version: string) {
	const found = fake.packages.find((each) => each.spec.name === name && each.spec.version === version);
	if (!found) {
		throw new Error(`no fake ${name} ${version}`);
	}

	return found;
}

test('Kibana installs from the mirror what it would install from the registry, and the signature verifies', async (t) => {
	for (const [name, kibana] of [
		['nginx', '9.0.0'],
		['nginx', '8.15.0'],
		['filelog_input', '9.1.0-SNAPSHOT'],
		['aws', '9.1.0'],
	] as const) {
		const [fromMirror, fromRegistry] = await Promise.all([
			installLikeKibana(mirrorUrl, name, kibana, key.armoredPublic),
			installLikeKibana(fake.url, name, kibana, key.armoredPublic),
		]);
		t.deepEqual(fromMirror.listed, fromRegistry.listed, `${name} on ${kibana}`);
		t.is(fromMirror.version, fromRegistry.version);
		t.deepEqual(fromMirror.info, fromRegistry.info);
		t.true(fromMirror.zip.equals(fromRegistry.zip));
		t.is(fromMirror.readme, fromRegistry.readme);
		t.deepEqual(fromMirror.categories, fromRegistry.categories);
		t.is(fromMirror.manifest.name, name);
	}
});

test('a complete zip download is counted by package in the metrics', async (t) => {
	await installLikeKibana(mirrorUrl, 'system', '9.0.0', key.armoredPublic);
	// Other tests here download zips too: at least this one is counted.
	const counted = await eventually(async () =>
		/^mirror_package_downloads_total\{package="system"\} [1-9]\d*$/m.test(
			(await request(mirrorUrl, '/metrics')).text,
		),
	);
	t.true(counted);
	// A zip the mirror does not hold is a 404 and no label: clients cannot grow the label set.
	t.is((await request(mirrorUrl, '/epr/made_up/made_up-1.0.0.zip')).status, 404);
	t.false((await request(mirrorUrl, '/metrics')).text.includes('package="made_up"'));
	t.regex((await request(mirrorUrl, '/metrics')).text, /^mirror_package_versions \d+$/m);
});

test('zips and signatures are tree files: exact length, strong ETag, ranges, 304, no Content-Encoding, long cache', async (t) => {
	const nginx = fakePackage('nginx', '1.5.0');
	await checkServedFile(t, mirrorUrl, '/epr/nginx/nginx-1.5.0.zip', nginx.zip, 'application/zip');
	await checkServedFile(
		t,
		mirrorUrl,
		'/epr/nginx/nginx-1.5.0.zip.sig',
		Buffer.from(nginx.signature),
		'application/pgp-signature',
	);
	const zip = await request(mirrorUrl, '/epr/nginx/nginx-1.5.0.zip');
	t.regex(zip.headers['cache-control'] ?? '', /immutable/);

	// Immutable, so dates are trusted as the registry's ServeFile trusts them.
	const later = new Date(Date.now() + 86_400_000).toUTCString();
	const since = await request(mirrorUrl, '/epr/nginx/nginx-1.5.0.zip', {
		headers: {'If-Modified-Since': later},
	});
	t.is(since.status, 304);
	const lastModified = zip.headers['last-modified'] ?? '';
	const ranged = await request(mirrorUrl, '/epr/nginx/nginx-1.5.0.zip', {
		headers: {Range: 'bytes=0-3', 'If-Range': lastModified},
	});
	t.is(ranged.status, 206, 'a date If-Range matching the file gets the range');
	t.is(ranged.text.length, 4);
});

test('files come from inside the zip with their types, ETag, ranges and 304', async (t) => {
	const nginx = fakePackage('nginx', '1.5.0');
	for (const [file, type] of [
		['docs/README.md', 'text/markdown; charset=utf-8'],
		['img/icon.svg', 'image/svg+xml'],
		['manifest.yml', 'text/yaml; charset=UTF-8'],
	] as const) {
		await checkServedFile(
			t,
			mirrorUrl,
			`/package/nginx/1.5.0/${file}`,
			nginx.files.get(file) ?? Buffer.alloc(0),
			type,
		);
	}
});

test('a running server shows a package version published later, without a restart', async (t) => {
	const liveDir = await tempDir(t, 'serve-packages-live-');
	await publishPackages(dirLocation(liveDir), [fakePackage('nginx', '1.5.0')]);
	const url = (await withServer(t, liveDir)).url;
	const newest = async () =>
		(
			(await (await fetch(`${url}/search?package=nginx&kibana.version=9.0.0`)).json()) as Array<{
				version: string;
			}>
		)[0]?.version;
	t.is(await newest(), '1.5.0');
	t.is((await request(url, '/package/nginx/2.0.0/')).status, 404);
	// As a later sync would: its own lock and writer, the manifest written after the files.
	await publishPackages(dirLocation(liveDir), [fakePackage('nginx', '2.0.0')]);
	t.true(await eventually(async () => (await newest()) === '2.0.0'));
	t.is((await request(url, '/package/nginx/2.0.0/docs/README.md')).status, 200);
	t.is((await request(url, '/epr/nginx/nginx-2.0.0.zip')).status, 200);
});

test('/api/v1/packages lists every version with its Kibana condition and paths', async (t) => {
	const all = (await (await fetch(`${mirrorUrl}/api/v1/packages`)).json()) as {
		count: number;
		packages: Array<Record<string, unknown>>;
	};
	t.is(all.count, fake.packages.length);
	const nginx = all.packages.filter((entry) => entry.name === 'nginx');
	t.deepEqual(
		nginx.map((entry) => entry.version),
		['2.1.0-beta.1', '2.0.0', '1.5.0', '1.0.0'],
	);
	t.like(nginx[2], {
		title: 'Nginx',
		kibana: '^8.13.0 || ^9.0.0',
		size: fakePackage('nginx', '1.5.0').zip.length,
		path: 'epr/nginx/nginx-1.5.0.zip',
		url: `${mirrorUrl}/epr/nginx/nginx-1.5.0.zip`,
		signatureUrl: `${mirrorUrl}/epr/nginx/nginx-1.5.0.zip.sig`,
		infoUrl: `${mirrorUrl}/package/nginx/1.5.0/`,
	});
	const compatible = (await (
		await fetch(`${mirrorUrl}/api/v1/packages?name=nginx&kibana.version=8.15.0`)
	).json()) as {
		packages: Array<{version: string}>;
	};
	t.deepEqual(
		compatible.packages.map((entry) => entry.version),
		['1.5.0', '1.0.0'],
	);
	t.is((await request(mirrorUrl, '/api/v1/packages?kibana.version=nine')).status, 400);
});

test('the catalogue shows the packages and the Kibana settings to paste', async (t) => {
	const page = (await request(mirrorUrl, '/')).text;
	t.regex(page, /<section class="packages" id="packages"/);
	t.true(page.includes(`xpack.fleet.registryUrl: &quot;${mirrorUrl}&quot;`));
	t.true(page.includes('xpack.fleet.isAirGapped: true'));
	t.true(page.includes('src="./package/nginx/2.1.0-beta.1/img/icon.svg"'));
	t.true(page.includes('Kibana ^8.13.0 || ^9.0.0'));
	t.false(page.includes('NODE_EXTRA_CA_CERTS'));
	const icon = await request(mirrorUrl, '/package/nginx/2.1.0-beta.1/img/icon.svg');
	t.is(icon.status, 200);
	const behindTls = await withServer(t, dir, {publicUrl: 'https://mirror.example.internal'});
	const tlsPage = (await request(behindTls.url, '/')).text;
	t.true(tlsPage.includes('xpack.fleet.registryUrl: &quot;https://mirror.example.internal&quot;'));
	t.true(tlsPage.includes('NODE_EXTRA_CA_CERTS'));
});

/** A reverse proxy that mounts `target` below `/elastic/`, as an ingress with a path would. */
async function prefixProxy(t: {teardown(fn: () => Promise<void>): void}, target: string): Promise<string> {
	const server = http.createServer((incoming, outgoing) => {
		const url = incoming.url ?? '/';
		if (!url.startsWith('/elastic/')) {
			outgoing.writeHead(404).end('outside the prefix\n');
			return;
		}

		const forwarded = http.request(
			`${target}${url.slice('/elastic'.length)}`,
			{headers: incoming.headers},
			(reply) => {
				outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
				reply.pipe(outgoing);
			},
		);
		forwarded.on('error', () => outgoing.destroy());
		forwarded.end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}/elastic`;
}

test('Kibana and the page work through a proxy that mounts the mirror below a path', async (t) => {
	const registryUrl = await prefixProxy(t, mirrorUrl);
	const install = await installLikeKibana(registryUrl, 'nginx', '9.0.0', key.armoredPublic);
	t.true(install.zip.equals(fakePackage('nginx', '2.0.0').zip));
	// Without its slash, the package info redirects to a place still below the prefix.
	const redirected = await fetch(`${registryUrl}/package/nginx/2.0.0`);
	t.is(redirected.url, `${registryUrl}/package/nginx/2.0.0/`);
	t.is(redirected.status, 200);
	const page = await (await fetch(`${registryUrl}/`)).text();
	const section = page.slice(page.indexOf('<section class="packages"'));
	const links = [...section.matchAll(/\b(?:href|src)="([^"#][^"]*)"/g)].map((match) =>
		(match[1] ?? '').replaceAll('&amp;', '&'),
	);
	t.true(links.length > 20);
	for (const link of new Set(links)) {
		const response = await fetch(new URL(link, `${registryUrl}/`));
		t.is(response.status, 200, link);
		await response.arrayBuffer();
	}
});
