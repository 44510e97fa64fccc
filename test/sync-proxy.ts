import dns from 'node:dns';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {startFakeUpstream} from './helpers/fake-upstream.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {startProxy} from './helpers/proxy.js';
import {runCli, runSync, syncFlags, toArgs} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates, type TestCertificates} from './helpers/tls.js';

let key: TestKey;
let certificates: TestCertificates;
let certificateDir: string;
test.before(async () => {
	key = await createTestKey();
	certificateDir = await mkdtemp(path.join(os.tmpdir(), 'tls-'));
	certificates = createCertificates(certificateDir);
});
test.after.always(() => rm(certificateDir, {recursive: true, force: true}));

async function setup(t: ExecutionContext) {
	const upstream = await startFakeUpstream({
		key,
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		tls: {cert: certificates.cert, key: certificates.key},
	});
	const proxy = await startProxy();
	t.teardown(async () => {
		await proxy.close();
		await upstream.close();
	});
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const flags = syncFlags(upstream.url, dir, keyPath, {versions: 'latest', platforms: 'linux-x86_64'});
	return {upstream, proxy, dir, flags};
}

test('HTTPS_PROXY sends every upstream request through the proxy; --ca-file trusts a private CA', async (t) => {
	const {upstream, proxy, dir, flags} = await setup(t);
	const result = await runCli(['sync', '--json', ...toArgs({...flags, 'ca-file': certificates.caFile})], {
		env: {HTTPS_PROXY: proxy.url},
	});
	t.is(result.code, 0, result.stderr);
	const host = new URL(upstream.url).host;
	t.true(proxy.seen.length > 0);
	t.true(proxy.seen.every((target) => target === host));
	// Versions API, sidecars, artifact and keys all went through the tunnel.
	t.true(upstream.requests.length >= 5);
	const artifact = upstream.refs[0]?.path as string;
	t.deepEqual(await readFile(path.join(dir, artifact)), upstream.files.get(artifact));
});

test('NO_PROXY bypasses the proxy for matching hosts', async (t) => {
	const {proxy, flags} = await setup(t);
	const {summary} = await runSync(
		{...flags, 'ca-file': certificates.caFile},
		{HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,localhost'},
	);
	t.is(summary.result, 'success');
	t.deepEqual(proxy.seen, []);
});

test('an upstream whose certificate is not trusted fails with one clear line naming --ca-file', async (t) => {
	const {upstream, dir, flags} = await setup(t);
	const result = await runCli(['sync', '--no-json', ...toArgs(flags)]);
	t.is(result.code, 1);
	t.regex(result.stderr, /TLS certificate of localhost:\d+ not trusted .*see --ca-file/);
	t.is(result.stderr.trim().split('\n').length, 1);
	t.deepEqual(upstream.requests, []);
	t.is((await import('node:fs')).existsSync(path.join(dir, 'downloads')), false);
});

/** Resolve `*.mirror.test` to loopback in this process, as a site's DNS would. */
function resolveTestNames(t: ExecutionContext) {
	const original = dns.lookup;
	const patched = ((hostname: string, ...rest: unknown[]) => {
		const name = hostname.endsWith('.mirror.test') ? '127.0.0.1' : hostname;
		return (original as (...args: unknown[]) => unknown)(name, ...rest);
	}) as typeof dns.lookup;
	dns.lookup = patched;
	t.teardown(() => {
		dns.lookup = original;
	});
}

test.serial(
	'NO_PROXY=domain bypasses the proxy for its subdomains and a CIDR block for addresses, end to end',
	async (t) => {
		resolveTestNames(t);
		const upstream = await startFakeUpstream({key, versions: ['9.1.3'], platforms: ['linux-x86_64']});
		const proxy = await startProxy();
		t.teardown(async () => {
			await proxy.close();
			await upstream.close();
		});
		const port = new URL(upstream.url).port;
		const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
		const flags = async () => ({
			...syncFlags(`http://artifacts.mirror.test:${port}`, await tempDir(t), keyPath, {
				versions: 'latest',
				platforms: 'linux-x86_64',
			}),
			'versions-api': `http://127.0.0.1:${port}/v1/versions`,
		});

		const bypassed = await runSync(await flags(), {
			HTTP_PROXY: proxy.url,
			NO_PROXY: 'mirror.test, 127.0.0.0/8',
		});
		t.is(bypassed.summary.result, 'success');
		t.deepEqual(proxy.seen, []);

		const proxied = await runSync(await flags(), {HTTP_PROXY: proxy.url, NO_PROXY: 'other.test,10.0.0.0/8'});
		t.is(proxied.summary.result, 'success');
		// hpagent tunnels plain http with CONNECT too: the proxy sees `host:port`.
		t.deepEqual(
			[...new Set(proxy.seen)].sort(),
			[`127.0.0.1:${port}`, `artifacts.mirror.test:${port}`].sort(),
		);
	},
);
