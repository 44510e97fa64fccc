import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {redactText} from '../src/redact.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, syncFlags, toArgs} from './helpers/run.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

test('redactText hides the user and password of a URL, and nothing else', (t) => {
	t.is(redactText('http://user:pass@mirror.local:8080/a/b?c=1'), 'http://***@mirror.local:8080/a/b?c=1');
	t.is(redactText('https://token@artifacts.example/x'), 'https://***@artifacts.example/x');
	// A raw `@` in the password (URL parsers take it): all of the userinfo goes.
	t.is(redactText('http://user:p@ss@mirror.local/x'), 'http://***@mirror.local/x');
	t.is(redactText('https://artifacts.elastic.co/downloads/x'), 'https://artifacts.elastic.co/downloads/x');
	t.is(
		redactText('connect failed (http://u:p%40ss@10.0.0.1:3128) then http://a:b@c/d; mail me@example.com'),
		'connect failed (http://***@10.0.0.1:3128) then http://***@c/d; mail me@example.com',
	);
});

test('credentials in --upstream, --versions-api and the proxy URL appear in no event, reason, log line or status', async (t) => {
	const {upstream, dir, keyPath} = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'linux-arm64'],
	});
	const artifact = upstream.refs[0]?.path as string;
	upstream.faults.set(artifact, {statuses: [500, 500]});
	upstream.faults.set(`${upstream.refs[1]?.path}.sha512`, {statuses: [404]});
	const withCredentials = upstream.url.replace('http://', 'http://mirror-user:s3cr3t-pass@');
	const flags = syncFlags(withCredentials, dir, keyPath, {
		versions: 'latest',
		platforms: 'linux-x86_64,linux-arm64',
		retries: '1',
	});
	const result = await runCli(['sync', '--json', ...toArgs(flags)], {
		// Not used for 127.0.0.1 (NO_PROXY), but parsed and checked: it must not leak either.
		env: {HTTP_PROXY: 'http://proxy-user:pr0xy-pass@127.0.0.1:9', NO_PROXY: '127.0.0.1'},
	});
	t.is(result.code, 1, result.stderr);
	const output = result.stdout + result.stderr;
	t.true(result.lines.some((line) => line.event === 'retry'));
	t.true(result.lines.some((line) => line.event === 'failed'));
	t.true(output.includes('***@127.0.0.1'), output);
	for (const secret of ['s3cr3t-pass', 'mirror-user', 'pr0xy-pass']) {
		t.false(output.includes(secret), `${secret} printed`);
	}

	const status = await readFile(path.join(dir, '.mirror', 'status.json'), 'utf8');
	t.false(status.includes('s3cr3t'), status);
	upstream.faults.set(artifact, {statuses: [500, 500]});
	const text = await runCli(['sync', '--no-json', ...toArgs(flags)]);
	t.is(text.code, 1);
	t.regex(text.stdout + text.stderr, /\*\*\*@127\.0\.0\.1/);
	t.false((text.stdout + text.stderr).includes('s3cr3t'));
});

test('a bad URL with credentials is refused without printing them', async (t) => {
	const result = await runCli([
		'sync',
		'--versions',
		'9.1.3',
		'--upstream',
		'ftp://mirror-user:s3cr3t@host/',
	]);
	t.is(result.code, 2);
	t.is(result.stderr, 'error: invalid --upstream "ftp://***@host/": expected an http:// or https:// URL\n');
});
