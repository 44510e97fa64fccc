/**
The package registry API served from a bucket: the same answers as the fake
registry, Kibana's install flow, zips and signatures with their HTTP rules, files
read from inside the zip by ranged GETs, and a version published while serving.
*/
import {randomBytes} from 'node:crypto';
import {s3Location} from '../src/store/location.js';
import {standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {installLikeKibana} from './helpers/kibana-client.js';
import {checkServedFile, eventually} from './helpers/package-checks.js';
import {publishPackages} from './helpers/package-mirror.js';
import {ensureS3, withBucket} from './helpers/s3.js';
import {withServer} from './helpers/with-server.js';

// In-process servers use the SDK; its advice to move to Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 package tests', await ensureS3(), {serial: true});

s3Test(
	'a bucket mirror answers as the registry, Kibana installs from it, and later versions appear',
	async (t) => {
		const key = await createTestKey();
		// A file bigger than one ranged read of the zip (4 MiB), which does not compress.
		const big = randomBytes(6 * 1024 * 1024 + 123);
		const fake = await startFakeRegistry({
			key,
			packages: [
				...standardPackages.filter((spec) => !spec.badSignature),
				{name: 'bigpkg', version: '1.0.0', categories: ['custom'], files: {'img/big.bin': big}},
			],
		});
		t.teardown(() => fake.close());
		const held = fake.packages.filter(
			(each) => !(each.spec.name === 'nginx' && each.spec.version === '2.0.0'),
		);
		const later = fake.packages.find((each) => each.spec.name === 'nginx' && each.spec.version === '2.0.0');
		if (!later) {
			throw new Error('the standard set has nginx 2.0.0');
		}

		const {location} = await withBucket(t);
		await publishPackages(s3Location(location), held);
		const server = await withServer(t, '/nonexistent-dir-unused-with-a-store', {
			location: s3Location(location),
			indexRefreshMs: 100,
		});
		const url = server.url;
		fake.remove('nginx', '2.0.0');

		for (const path of [
			'/search',
			'/search?kibana.version=9.0.0',
			'/search?all=true&prerelease=true',
			'/search?category=observability&kibana.version=9.0.0',
			'/search?spec.min=3.1&spec.max=3.3',
			'/search?kibana.version=bad',
			'/categories?include_policy_templates=true',
			'/package/aws/3.0.0/',
			'/package/nginx/1.5.0/docs/README.md',
			'/package/nginx/1.5.0/docs/missing.md',
			'/package/nginx/2.0.0/',
			'/epr/nginx/nginx-2.0.0.zip',
		]) {
			const [expected, actual] = await Promise.all([request(fake.url, path), request(url, path)]);
			t.is(actual.status, expected.status, path);
			t.is(actual.text, expected.text, path);
			t.is(actual.headers['content-type'], expected.headers['content-type'], path);
			// The mirror caches search and categories answers a minute where the registry says ten.
			const lifetime = /^\/(search|categories)\b/.test(path) ? /^max-age=600,/ : /^$/;
			t.is(
				actual.headers['cache-control'],
				expected.headers['cache-control']?.replace(lifetime, 'max-age=60,'),
				path,
			);
		}

		const [fromMirror, fromRegistry] = await Promise.all([
			installLikeKibana(url, 'aws', '9.1.0', key.armoredPublic),
			installLikeKibana(fake.url, 'aws', '9.1.0', key.armoredPublic),
		]);
		t.deepEqual(fromMirror.listed, fromRegistry.listed);
		t.true(fromMirror.zip.equals(fromRegistry.zip));
		t.is(fromMirror.readme, fromRegistry.readme);

		const nginx = held.find((each) => each.spec.name === 'nginx' && each.spec.version === '1.5.0');
		await checkServedFile(
			t,
			url,
			'/epr/nginx/nginx-1.5.0.zip',
			nginx?.zip ?? Buffer.alloc(0),
			'application/zip',
		);
		await checkServedFile(
			t,
			url,
			'/epr/nginx/nginx-1.5.0.zip.sig',
			Buffer.from(nginx?.signature ?? ''),
			'application/pgp-signature',
		);
		await checkServedFile(
			t,
			url,
			'/package/nginx/1.5.0/img/icon.svg',
			nginx?.files.get('img/icon.svg') ?? Buffer.alloc(0),
			'image/svg+xml',
		);

		const bigFile = await request(url, '/package/bigpkg/1.0.0/img/big.bin');
		const bigExpected = await request(fake.url, '/package/bigpkg/1.0.0/img/big.bin');
		t.is(bigFile.status, 200);
		t.true(bigFile.body.equals(big));
		t.is(bigFile.headers['content-type'], bigExpected.headers['content-type']);

		// A later sync publishes a version: the server sees it with the next manifest it reads.
		const newest = async () =>
			(
				(await (await fetch(`${url}/search?package=nginx&kibana.version=9.0.0`)).json()) as Array<{
					version: string;
				}>
			)[0]?.version;
		t.is(await newest(), '1.5.0');
		await publishPackages(s3Location(location), [later]);
		t.true(await eventually(async () => (await newest()) === '2.0.0'));
		const readme = await request(url, '/package/nginx/2.0.0/docs/README.md');
		t.is(readme.status, 200);
		t.true(readme.body.equals(later.files.get('docs/README.md') ?? Buffer.alloc(0)));
	},
);
