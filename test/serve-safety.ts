import {mkdir, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {sharedTeardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';
import {type WithMirror, withMirror, withServer} from './helpers/with-server.js';

const tarball = '/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz';
let mirror: WithMirror;
const shared = sharedTeardown();
test.after.always(() => shared.run());

test.before(async () => {
	mirror = await withMirror(shared, await createTestKey(), {versions: ['9.1.3']});
	// A secret next to the tree, and stray hidden files inside it, that no request may reach.
	await writeFile(path.join(path.dirname(mirror.dir), `${path.basename(mirror.dir)}-secret.txt`), 'secret');
	await writeFile(path.join(mirror.dir, '.env'), 'TOKEN=secret');
	await mkdir(path.join(mirror.dir, 'downloads', '.cache'), {recursive: true});
	await writeFile(path.join(mirror.dir, 'downloads', '.cache', 'x'), 'secret');
	await mkdir(path.join(mirror.dir, '.mirror', 'tmp'), {recursive: true});
	await writeFile(path.join(mirror.dir, '.mirror', 'tmp', 'partial.tar.gz'), 'half');
});

test('only GET and HEAD: everything else is 405 with Allow', async (t) => {
	for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
		for (const target of [tarball, '/', '/api/v1/artifacts', '/downloads/']) {
			const response = await request(mirror.url, target, {method});
			t.is(response.status, 405, `${method} ${target}`);
			t.is(response.headers.allow, 'GET, HEAD', `${method} ${target}`);
		}
	}

	const after = await request(mirror.url, tarball);
	t.is(after.status, 200);
});

test('path tricks answer 400 or 404 and never reach outside the tree', async (t) => {
	const secret = `${path.basename(mirror.dir)}-secret.txt`;
	const tricks = [
		`/../${secret}`,
		`/downloads/../../${secret}`,
		`/%2e%2e/${secret}`,
		`/downloads/%2E%2E/%2e%2e/${secret}`,
		`/downloads/..%2f..%2f${secret}`,
		`/downloads/..%2F${secret}`,
		`/downloads/..%5c..%5c${secret}`,
		`/downloads\\..\\..\\${secret}`,
		'/downloads/%00',
		'/GPG-KEY-elasticsearch%00.txt',
		'/downloads/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
		'/downloads/%ZZ',
		'/./GPG-KEY-elasticsearch',
		`/${'a/'.repeat(600)}`,
		`/downloads/${'x'.repeat(5000)}`,
		'/assets/..%2f..%2fpackage.json',
		'/assets/%2e%2e',
		'/etc/passwd',
		`/${path.join(mirror.dir, 'GPG-KEY-elasticsearch')}`,
	];
	for (const trick of tricks) {
		const response = await request(mirror.url, trick);
		t.true([400, 404].includes(response.status), `${trick}: ${response.status}`);
		t.false(response.text.includes('secret'), trick);
		t.false(response.text.includes(mirror.dir), trick);
	}
});

test('hidden folders and files (state, temp, lock, dotfiles) are never served or listed', async (t) => {
	for (const hidden of [
		'/.mirror/manifest.json',
		'/.mirror/status.json',
		'/.mirror/sync.lock',
		'/.mirror/tmp/partial.tar.gz',
		'/.mirror/',
		'/%2emirror/manifest.json',
		'/.env',
		'/downloads/.cache/x',
		'/downloads/.cache/',
		'/.gitkeep',
	]) {
		const response = await request(mirror.url, hidden);
		t.is(response.status, 404, hidden);
	}

	for (const listing of ['/downloads/', '/downloads/beats/elastic-agent/']) {
		const html = await request(mirror.url, listing);
		const json = await request(mirror.url, listing, {headers: {Accept: 'application/json'}});
		for (const response of [html, json]) {
			t.is(response.status, 200, listing);
			t.false(response.text.includes('.cache'), listing);
			t.false(response.text.includes('.mirror'), listing);
		}
	}
});

test('HTML pages carry a strict Content-Security-Policy and nosniff', async (t) => {
	for (const page of ['/', '/downloads/', '/downloads/beats/elastic-agent/', '/nothing-here']) {
		const response = await request(mirror.url, page, {headers: {Accept: 'text/html'}});
		t.regex(String(response.headers['content-type']), /^text\/html/, page);
		const csp = String(response.headers['content-security-policy']);
		t.true(csp.includes("default-src 'none'"), page);
		t.true(csp.includes("script-src 'self'"), page);
		t.false(csp.includes('unsafe-inline'), page);
		t.true(csp.includes("frame-ancestors 'none'"), page);
		t.is(response.headers['x-content-type-options'], 'nosniff', page);
		// No inline scripts or styles that the policy would block.
		t.false(/<script(?![^>]*\bsrc=)[^>]*>/.test(response.text), page);
		t.false(/\sstyle="/.test(response.text), page);
	}
});

test('errors are short, in the form asked for, and leak no paths', async (t) => {
	const text = await request(
		mirror.url,
		'/downloads/beats/elastic-agent/elastic-agent-1.0.0-linux-x86_64.tar.gz',
	);
	t.is(text.status, 404);
	t.is(text.text, 'not found\n');
	t.is(text.headers['content-type'], 'text/plain; charset=utf-8');

	const json = await request(mirror.url, '/downloads/nope/', {headers: {Accept: 'application/json'}});
	t.is(json.status, 404);
	t.deepEqual(JSON.parse(json.text), {error: {status: 404, message: 'not found'}});

	const html = await request(mirror.url, '/nope', {headers: {Accept: 'text/html'}});
	t.is(html.status, 404);
	t.true(html.text.length < 1000);
	t.false(html.text.includes(mirror.dir));

	const bad = await request(mirror.url, '/downloads/%ZZ');
	t.is(bad.status, 400);
	t.is(bad.text, 'malformed path\n');
});

test('a folder without its trailing slash redirects to the listing; a file with one is not found', async (t) => {
	const folder = await request(mirror.url, '/downloads/beats?x=1');
	t.is(folder.status, 301);
	// Relative (issue 14 item 25), so that it stays below a proxy's path prefix.
	t.is(folder.headers.location, 'beats/?x=1');
	const file = await request(mirror.url, `${tarball}/`);
	t.is(file.status, 404);
	// Repeated slashes fold, as the agent's own URL joining does.
	const doubled = await request(mirror.url, tarball.replace('/beats/', '//beats//'));
	t.is(doubled.status, 200);
});

test('symbolic links are neither served nor listed, wherever they point; a mirror directory that is itself a link is served', async (t) => {
	const outside = await tempDir(t, 'outside-');
	await writeFile(path.join(outside, 'secret.txt'), 'secret small\n');
	await writeFile(path.join(outside, 'big.bin'), Buffer.alloc(300 * 1024, 'secret big '));
	await mkdir(path.join(outside, 'folder'));
	await writeFile(path.join(outside, 'folder', 'inner.txt'), 'secret inner\n');
	const real = await tempDir(t, 'real-');
	const folder = path.join(real, 'downloads', 'beats', 'elastic-agent');
	await mkdir(folder, {recursive: true});
	await mkdir(path.join(real, '.mirror'));
	await writeFile(path.join(real, '.mirror', 'manifest.json'), '{"secret": "manifest"}');
	const artifact = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';
	const bytes = Buffer.alloc(300 * 1024, 'artifact ');
	await writeFile(path.join(folder, artifact), bytes);
	await writeFile(path.join(folder, `${artifact}.sha512`), `${'a'.repeat(128)}  ${artifact}\n`);
	const links: Array<[string, string]> = [
		['elastic-agent-9.1.4-linux-x86_64.tar.gz.sha512', path.join(outside, 'secret.txt')],
		['elastic-agent-9.1.4-linux-x86_64.tar.gz', path.join(outside, 'big.bin')],
		['passwd', '/etc/passwd'],
		['manifest.json', '../../../.mirror/manifest.json'],
		['elastic-agent-9.1.5-linux-x86_64.tar.gz', artifact],
		['elastic-agent-9.1.5-linux-x86_64.tar.gz.sha512', `${artifact}.sha512`],
		['outside-folder', path.join(outside, 'folder')],
		['dangling', path.join(outside, 'nothing')],
	];
	for (const [name, target] of links) {
		await symlink(target, path.join(folder, name));
	}

	await symlink(outside, path.join(real, 'downloads', 'elsewhere'));
	// The mirror directory itself may be a link (an operator's choice): served as usual.
	const linkedRoot = path.join(await tempDir(t, 'root-link-'), 'mirror');
	await symlink(real, linkedRoot);
	const server = await withServer(t, linkedRoot);
	const base = '/downloads/beats/elastic-agent';

	const served = await request(server.url, `${base}/${artifact}`);
	t.is(served.status, 200);
	t.true(served.body.equals(bytes));
	t.is((await request(server.url, `${base}/${artifact}.sha512`)).status, 200);
	const refused = [
		...links.map(([name]) => `${base}/${name}`),
		`${base}/outside-folder/`,
		`${base}/outside-folder/inner.txt`,
		'/downloads/elsewhere',
		'/downloads/elsewhere/',
		'/downloads/elsewhere/secret.txt',
		'/downloads/elsewhere/big.bin',
		'/downloads/elsewhere/folder/',
	];
	for (const target of refused) {
		for (const method of ['GET', 'HEAD']) {
			const response = await request(server.url, target, {method});
			t.is(response.status, 404, `${method} ${target}`);
			t.false(response.text.includes('secret'), `${method} ${target}`);
			t.false(response.text.includes('root:'), `${method} ${target}`);
		}
	}

	for (const listing of ['/downloads/', `${base}/`]) {
		for (const accept of ['text/html', 'application/json']) {
			const response = await request(server.url, listing, {headers: {Accept: accept}});
			t.is(response.status, 200, listing);
			for (const name of ['elsewhere', ...links.map(([link]) => link)]) {
				t.false(response.text.includes(name), `${listing} (${accept}) shows ${name}`);
			}
		}
	}
});
