import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {usableCpus} from '../src/config/cpus.js';
import {upstreamDefs} from '../src/config/defs/upstream.js';
import {
	loadExportConfig,
	loadImportConfig,
	loadPruneConfig,
	loadServeConfig,
	loadSyncConfig,
	loadVerifyConfig,
} from '../src/config/index.js';
import {createReader} from '../src/config/reader.js';
import {UsageError} from '../src/errors.js';
import {bundledKeyPath} from '../src/meta.js';
import {dirOf, s3Of} from './helpers/location.js';
import {tempDir} from './helpers/temp.js';

const load = (cwd: string, flags: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
	loadSyncConfig({flags: flags as never, env, cwd}).options;

test('defaults: the table in the README', async (t) => {
	const cwd = await tempDir(t);
	const options = load(cwd, {versions: 'latest'});
	t.is(dirOf(options), path.join(cwd, 'artifacts'));
	t.is(options.upstream, 'https://artifacts.elastic.co');
	t.is(options.versionsApi, 'https://artifacts-api.elastic.co/v1/versions');
	t.deepEqual(options.products, ['elastic-agent']);
	t.deepEqual(options.platforms, [
		'linux-x86_64',
		'linux-arm64',
		'darwin-x86_64',
		'darwin-aarch64',
		'windows-x86_64',
	]);
	t.false(options.fips);
	t.deepEqual(options.trustedKeyPaths, [bundledKeyPath]);
	t.is(options.concurrency, 4);
	t.is(options.http.timeoutMs, 30_000);
	t.is(options.http.retries, 5);
	t.false(options.dryRun);
});

test('precedence: flags > environment > ./mirror.yml > defaults', async (t) => {
	const cwd = await tempDir(t);
	await writeFile(
		path.join(cwd, 'mirror.yml'),
		'versions: [9.1.x, latest]\nconcurrency: 2\nupstream: http://file.example\nproducts:\n  - elastic-agent\n  - fleet-server\ndir: from-file\n',
	);
	const fileOnly = load(cwd);
	t.deepEqual(
		fileOnly.versions.map((spec) => spec.text),
		['9.1.x', 'latest'],
	);
	t.is(fileOnly.concurrency, 2);
	t.deepEqual(fileOnly.products, ['elastic-agent', 'fleet-server']);
	t.is(dirOf(fileOnly), path.join(cwd, 'from-file'));

	const env = {MIRROR_CONCURRENCY: '6', MIRROR_UPSTREAM: 'http://env.example/'};
	const withEnv = load(cwd, {}, env);
	t.is(withEnv.concurrency, 6);
	t.is(withEnv.upstream, 'http://env.example');

	const withFlags = load(cwd, {concurrency: '8', versions: '9.0.0'}, env);
	t.is(withFlags.concurrency, 8);
	t.deepEqual(
		withFlags.versions.map((spec) => spec.text),
		['9.0.0'],
	);
	t.is(withFlags.upstream, 'http://env.example');
});

test('--config names the file; its relative paths resolve from its folder', async (t) => {
	const cwd = await tempDir(t);
	const etc = path.join(cwd, 'etc');
	await mkdir(etc);
	await writeFile(path.join(etc, 'key.asc'), 'x');
	await writeFile(path.join(etc, 'conf.yaml'), 'versions: 9.1.3\ndir: ../data\ntrusted-keys: [key.asc]\n');
	const options = load(cwd, {config: 'etc/conf.yaml'});
	t.is(dirOf(options), path.join(cwd, 'data'));
	t.deepEqual(options.trustedKeyPaths, [path.join(etc, 'key.asc')]);
	t.throws(() => load(cwd, {config: 'nope.yml'}), {
		instanceOf: UsageError,
		message: /config file .*nope\.yml does not exist/,
	});
});

test('bad values are one-line usage errors naming where they came from', async (t) => {
	const cwd = await tempDir(t);
	const error = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
		t.throws(() => load(cwd, {versions: 'latest', ...flags}, env), {instanceOf: UsageError})?.message ?? '';

	t.is(
		error({platforms: 'linux-amd64'}),
		'unknown platform "linux-amd64" in --platforms; did you mean "linux-x86_64"?',
	);
	t.is(
		error({}, {MIRROR_PRODUCTS: 'elastic-agnet'}),
		'unknown product "elastic-agnet" in MIRROR_PRODUCTS; did you mean "elastic-agent"?',
	);
	t.regex(error({concurrency: '0'}), /invalid --concurrency "0": expected a whole number from 1 to 64/);
	t.regex(error({}, {MIRROR_CONCURRENCY: 'four'}), /invalid MIRROR_CONCURRENCY "four"/);
	t.regex(error({upstream: 'ftp://x'}), /invalid --upstream "ftp:\/\/x": expected an http/);
	t.regex(
		error({packages: 'nginx', 'kibana-versions': '9.1.0', registry: 'http://127.0.0.1:1/?a=1'}),
		/invalid --registry "http:\/\/127\.0\.0\.1:1\/\?a=1": expected a root URL without \? or #/,
	);
	t.regex(
		error({'defend-artifacts': '9.1.3', 'defend-upstream': 'https://x.example/#top'}),
		/invalid --defend-upstream .*expected a root URL/,
	);
	t.regex(
		error({'trusted-key': ['/no/such.asc']}),
		/trusted key \/no\/such\.asc \(from --trusted-key\) does not exist/,
	);
	t.regex(error({}, {MIRROR_FIPS: 'maybe'}), /invalid MIRROR_FIPS "maybe"/);
	t.regex(error({}, {HTTPS_PROXY: 'http://[bad'}), /HTTPS_PROXY/);
	t.throws(() => load(cwd), {message: /nothing selected: set --versions/});
	for (const message of [error({platforms: 'linux-amd64'}), error({concurrency: '0'})]) {
		t.false(message.includes('\n'));
	}
});

test('an unknown config-file key is reported with a suggestion', async (t) => {
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'mirror.yml'), 'versions: latest\nplatfroms: linux-x86_64\n');
	t.throws(() => load(cwd), {
		instanceOf: UsageError,
		message: /unknown key "platfroms" in .*mirror\.yml; did you mean "platforms"\?/,
	});
	await writeFile(path.join(cwd, 'mirror.yml'), '- a\n- b\n');
	t.throws(() => load(cwd), {instanceOf: UsageError, message: /must be a mapping/});
	await writeFile(path.join(cwd, 'mirror.yml'), 'versions: [\n');
	t.throws(() => load(cwd), {instanceOf: UsageError, message: /cannot read config file/});
});

test('all selects every product or platform', async (t) => {
	const cwd = await tempDir(t);
	const options = load(cwd, {versions: 'latest', products: 'all', platforms: 'all'});
	t.true(options.products.includes('cloudbeat'));
	t.true(options.platforms.includes('msi-x86_64'));
});

const loadServe = (cwd: string, flags: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
	loadServeConfig({flags: flags as never, env, cwd});

test('serve: defaults, and one mirror.yml shared with sync', async (t) => {
	const cwd = await tempDir(t);
	const defaults = loadServe(cwd);
	t.deepEqual(defaults, {
		location: {kind: 'dir', dir: path.join(cwd, 'artifacts')},
		host: '0.0.0.0',
		port: 8080,
		publicUrl: undefined,
		tls: undefined,
		trustProxy: false,
		drainTimeoutMs: 30_000,
		accessLog: true,
		urlFile: undefined,
		logFormat: 'json',
		logLevel: 'info',
		metricsAddress: undefined,
		s3Redirect: false,
		s3BlockCacheBytes: 64 * 1024 * 1024,
		syncSchedule: undefined,
		// One worker per usable CPU unless --workers says otherwise.
		workers: usableCpus(),
	});

	await writeFile(
		path.join(cwd, 'mirror.yml'),
		'dir: /srv/mirror\nversions: latest\nport: 9000\npublic-url: https://mirror.example.internal/\ntrust-proxy: true\n',
	);
	const fromFile = loadServe(cwd);
	t.is(dirOf(fromFile), '/srv/mirror');
	t.is(fromFile.port, 9000);
	t.is(fromFile.publicUrl, 'https://mirror.example.internal');
	t.true(fromFile.trustProxy);
	// sync reads the same file without tripping over serve's keys.
	t.is(dirOf(load(cwd)), '/srv/mirror');
});

test('serve: MIRROR_PORT wins over PORT; flags over both; bad values are one-line usage errors', async (t) => {
	const cwd = await tempDir(t);
	t.is(loadServe(cwd, {}, {PORT: '3000'}).port, 3000);
	t.is(loadServe(cwd, {}, {PORT: '3000', MIRROR_PORT: '4000'}).port, 4000);
	t.is(loadServe(cwd, {port: '5000'}, {PORT: '3000', MIRROR_PORT: '4000'}).port, 5000);
	t.false(loadServe(cwd, {}, {MIRROR_ACCESS_LOG: 'off'}).accessLog);
	t.false(loadServe(cwd, {'access-log': false}).accessLog);
	t.is(loadServe(cwd, {'drain-timeout': '2.5'}).drainTimeoutMs, 2500);

	const bad: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
		[{port: '-1'}, {}, /invalid --port "-1"/],
		[{}, {PORT: 'http'}, /invalid PORT "http"/],
		[{'public-url': 'https://x.example/?a=1'}, {}, /no query or fragment/],
		[{host: 'a b'}, {}, /invalid --host/],
		[{'tls-key': 'nope.pem'}, {}, /TLS key .*nope.pem .*does not exist/],
		[{}, {MIRROR_TRUST_PROXY: 'maybe'}, /invalid MIRROR_TRUST_PROXY "maybe"/],
	];
	for (const [flags, env, message] of bad) {
		const error = t.throws(() => loadServe(cwd, flags, env), {instanceOf: UsageError});
		t.regex(error?.message ?? '', message);
		t.false(error?.message.includes('\n'));
	}
});

test('--store: a directory is --dir; s3:// takes its options from flags and MIRROR_S3_*, credentials from AWS_*', async (t) => {
	const cwd = await tempDir(t);
	t.is(dirOf(load(cwd, {versions: 'latest', store: 'elsewhere'})), path.join(cwd, 'elsewhere'));
	t.is(s3Of(load(cwd, {versions: 'latest', store: 'elsewhere'})), undefined);

	const env = {
		MIRROR_S3_ENDPOINT: 'http://rgw.internal:7480/',
		MIRROR_S3_PATH_STYLE: 'true',
		AWS_ACCESS_KEY_ID: 'AKID',
		AWS_SECRET_ACCESS_KEY: 'secret',
	};
	const options = load(cwd, {versions: 'latest', store: 's3://mirror-bucket/elastic//artifacts/'}, env);
	t.deepEqual(s3Of(options), {
		bucket: 'mirror-bucket',
		prefix: 'elastic/artifacts/',
		endpoint: 'http://rgw.internal:7480',
		region: 'us-east-1',
		pathStyle: true,
		credentials: {accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: undefined},
	});
	t.is(s3Of(load(cwd, {versions: 'latest', store: 's3://b-1', 's3-region': 'eu-west-3'}))?.prefix, '');
	t.is(
		s3Of(load(cwd, {versions: 'latest', store: 's3://b-1', 's3-region': 'eu-west-3'}))?.region,
		'eu-west-3',
	);
	t.is(
		s3Of(load(cwd, {versions: 'latest', store: 's3://b-1'}))?.credentials,
		undefined,
		'the SDK chain then',
	);

	const serve = loadServe(cwd, {store: 's3://mirror-bucket', 's3-redirect': true}, env);
	t.true(serve.s3Redirect);
	t.is(
		loadServe(cwd, {store: 's3://mirror-bucket'}, {...env, MIRROR_S3_BLOCK_CACHE: '256'}).s3BlockCacheBytes,
		256 * 1024 * 1024,
	);
	t.is(loadServe(cwd, {store: 's3://mirror-bucket', 's3-block-cache': '0'}, env).s3BlockCacheBytes, 0);
	t.throws(() => loadServe(cwd, {store: 's3://mirror-bucket', 's3-block-cache': 'lots'}, env), {
		instanceOf: UsageError,
		message: /^invalid --s3-block-cache "lots"/,
	});
	t.is(s3Of(serve)?.bucket, 'mirror-bucket');
	t.is(s3Of(serve)?.endpoint, 'http://rgw.internal:7480');
});

test('verify, prune, export and import take the same --store and S3 options as sync', async (t) => {
	const cwd = await tempDir(t);
	const s3 = {
		store: 's3://mirror-bucket/team/',
		's3-endpoint': 'http://rgw.internal:7480',
		's3-path-style': true,
	};
	const env = {AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret'};
	const stores = [
		s3Of(loadVerifyConfig({flags: s3 as never, env, cwd}).sync),
		s3Of(loadPruneConfig({flags: {...s3, 'keep-latest': '2'} as never, env, cwd})),
		s3Of(loadExportConfig({flags: {...s3, out: 'bundle.tar'} as never, env, cwd})),
		s3Of(loadImportConfig({flags: s3 as never, env, cwd})),
	];
	for (const store of stores) {
		t.like(store, {
			bucket: 'mirror-bucket',
			prefix: 'team/',
			endpoint: 'http://rgw.internal:7480',
			pathStyle: true,
			credentials: {accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: undefined},
		});
	}

	// A path is still a directory.
	t.is(
		s3Of(loadPruneConfig({flags: {store: 'mirror', 'keep-latest': '1'} as never, env: {}, cwd})),
		undefined,
	);
	t.is(
		dirOf(loadPruneConfig({flags: {store: 'mirror', 'keep-latest': '1'} as never, env: {}, cwd})),
		path.join(cwd, 'mirror'),
	);
});

test('--store mistakes are one-line usage errors', async (t) => {
	const cwd = await tempDir(t);
	for (const [flags, env, message] of [
		[{store: 's3://'}, {}, /^invalid --store "s3:\/\/": expected s3:\/\/bucket or s3:\/\/bucket\/prefix$/],
		[{store: 's3://Bad Bucket/x'}, {}, /^invalid --store/],
		[{store: 's3://bucket/a/../b'}, {}, /no \. or \.\. in the prefix/],
		[{store: 's3://bucket', 's3-endpoint': 'ftp://x'}, {}, /^invalid --s3-endpoint/],
		[{store: 's3://bucket', 's3-region': 'eu west'}, {}, /^invalid --s3-region/],
		[{store: 's3://bucket'}, {AWS_ACCESS_KEY_ID: 'only-one'}, /go together/],
	] as const) {
		t.throws(() => load(cwd, {versions: 'latest', ...flags}, env), {instanceOf: UsageError, message});
	}

	t.throws(() => loadServe(cwd, {'s3-redirect': true}), {
		message: '--s3-redirect needs an s3:// --store to redirect to',
	});
});

test("the typed reader: flag > env > file > the definition's default, each reading recorded with its source", async (t) => {
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'mirror.yml'), 'retries: 2\ntimeout: 9\n');
	const reader = createReader({flags: {timeout: '7'}, env: {MIRROR_RETRIES: '3', MIRROR_TIMEOUT: '8'}, cwd});
	t.is(reader.read(upstreamDefs.timeout), 7);
	t.is(reader.read(upstreamDefs.retries), 3);
	t.is(reader.read(upstreamDefs.maxFileSize), 8 * 1024 ** 3, 'the default 8G, parsed like any value');
	t.is(reader.read(upstreamDefs.caFile), undefined, 'no default');
	t.true(reader.given(upstreamDefs.timeout));
	t.false(reader.given(upstreamDefs.caFile));
	t.is(reader.configFile, path.join(cwd, 'mirror.yml'));
	t.deepEqual(
		[...reader.readings].map(([name, reading]) => [name, reading.source.kind]),
		[
			['timeout', 'flag'],
			['retries', 'env'],
			['max-file-size', 'default'],
			['ca-file', 'default'],
		],
	);
	const fromFile = createReader({flags: {}, env: {}, cwd});
	t.is(fromFile.read(upstreamDefs.retries), 2);
	t.deepEqual(fromFile.readings.get('retries')?.source, {
		kind: 'file',
		file: path.join(cwd, 'mirror.yml'),
		key: 'retries',
	});
});
