/** The object store honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY like the upstream does. */
import test from 'ava';
import {createS3Store} from '../src/store/s3/client.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {startProxy} from './helpers/proxy.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {ensureS3, s3Env, s3Server, withBucket} from './helpers/s3.js';
import {withUpstream} from './helpers/with-upstream.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const s3Test = gatedTest('the S3 proxy tests', await ensureS3(), {serial: true});
const storeHost = new URL(s3Server.endpoint).host;

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

s3Test(
	'the S3 client goes through the proxy, and NO_PROXY (a CIDR block here) sends it direct',
	async (t) => {
		const bucket = await withBucket(t);
		const proxy = await startProxy();
		t.teardown(() => proxy.close());

		const proxied = createS3Store({...bucket.location, proxy: {http: proxy.url, https: proxy.url}});
		t.teardown(() => proxied.close());
		await proxied.checkAccess();
		t.not(await proxied.putBytes('hello.txt', 'hello'), false);
		t.is((await proxied.head('hello.txt'))?.size, 5);
		t.true(proxy.seen.includes(storeHost), proxy.seen.join('\n'));

		const before = proxy.seen.length;
		const direct = createS3Store({
			...bucket.location,
			proxy: {http: proxy.url, https: proxy.url, noProxy: 'example.com, 127.0.0.0/8'},
		});
		t.teardown(() => direct.close());
		t.is((await direct.head('hello.txt'))?.size, 5);
		t.is(proxy.seen.length, before);
	},
);

s3Test('sync --store s3://… takes HTTP_PROXY from the environment for the store too', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const bucket = await withBucket(t);
	const proxy = await startProxy();
	t.teardown(() => proxy.close());
	const result = await runCli(
		[
			'sync',
			'--json',
			...toArgs({
				...syncFlags(upstream.url, dir, keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
				store: bucket.url,
			}),
		],
		{env: {...s3Env, HTTP_PROXY: proxy.url}},
	);
	t.is(result.code, 0, result.stderr);
	t.true(proxy.seen.includes(storeHost), proxy.seen.join('\n'));
	t.true(proxy.seen.includes(new URL(upstream.url).host));
});
