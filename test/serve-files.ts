import test from 'ava';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {sharedTeardown} from './helpers/teardown.js';
import type {WithMirror} from './helpers/with-server.js';
import {withMirror} from './helpers/with-server.js';

const agentDir = '/downloads/beats/elastic-agent';
const tarball = `${agentDir}/elastic-agent-9.1.3-linux-x86_64.tar.gz`;
const snapshot = `${agentDir}/elastic-agent-9.2.0-SNAPSHOT-linux-x86_64.tar.gz`;
let mirror: WithMirror;
const shared = sharedTeardown();
test.after.always(() => shared.run());

test.before(async () => {
	const key = await createTestKey();
	mirror = await withMirror(shared, key, {
		versions: ['9.1.3', '9.2.0-SNAPSHOT'],
		platforms: ['linux-x86_64', 'windows-x86_64', 'deb-amd64', 'rpm-x86_64', 'msi-x86_64'],
		size: 64 * 1024,
	});
});

const upstreamBytes = (path: string) => {
	const bytes = mirror.upstream.files.get(path.slice(1));
	if (!bytes) {
		throw new Error(`no upstream file ${path}`);
	}

	return bytes;
};

test('artifacts, sidecars and keys come back byte for byte with exact Content-Length and their content types', async (t) => {
	const expected: Array<[string, string]> = [
		[tarball, 'application/gzip'],
		[`${agentDir}/elastic-agent-9.1.3-windows-x86_64.zip`, 'application/zip'],
		[`${agentDir}/elastic-agent-9.1.3-amd64.deb`, 'application/vnd.debian.binary-package'],
		[`${agentDir}/elastic-agent-9.1.3-x86_64.rpm`, 'application/x-rpm'],
		[`${agentDir}/elastic-agent-9.1.3-windows-x86_64.msi`, 'application/x-msi'],
		[`${tarball}.sha512`, 'text/plain; charset=utf-8'],
		[`${tarball}.asc`, 'application/pgp-signature'],
		['/GPG-KEY-elasticsearch', 'text/plain; charset=utf-8'],
		['/GPG-KEY-elastic-agent', 'text/plain; charset=utf-8'],
	];
	for (const [path, type] of expected) {
		const response = await request(mirror.url, path, {headers: {'Accept-Encoding': 'gzip, deflate, br'}});
		t.is(response.status, 200, path);
		t.is(response.headers['content-type'], type, path);
		t.true(response.body.equals(upstreamBytes(path)), path);
		t.is(response.headers['content-length'], String(upstreamBytes(path).length), path);
		t.is(response.headers['content-encoding'], undefined, path);
		t.is(response.headers['accept-ranges'], 'bytes', path);
		t.is(response.headers['x-content-type-options'], 'nosniff', path);
	}
});

test('HEAD answers the same headers as GET and no body', async (t) => {
	const get = await request(mirror.url, tarball);
	const head = await request(mirror.url, tarball, {method: 'HEAD'});
	t.is(head.status, 200);
	t.is(head.body.length, 0);
	const comparable = (headers: Record<string, unknown>) => {
		const {date: _date, ...rest} = headers;
		return rest;
	};

	t.deepEqual(comparable(head.headers), comparable(get.headers));
	t.is(head.headers['content-length'], String(upstreamBytes(tarball).length));
});

test('a strong ETag without a dash and Last-Modified; 304 on If-None-Match and If-Modified-Since', async (t) => {
	const first = await request(mirror.url, tarball);
	const etag = first.headers.etag ?? '';
	t.regex(etag, /^"[0-9a-f]{16,}"$/);
	t.false(etag.includes('-'));
	const lastModified = first.headers['last-modified'] ?? '';
	t.false(Number.isNaN(Date.parse(lastModified)));

	const byEtag = await request(mirror.url, tarball, {headers: {'If-None-Match': etag}});
	t.is(byEtag.status, 304);
	t.is(byEtag.body.length, 0);
	t.is(byEtag.headers.etag, etag);

	const byList = await request(mirror.url, tarball, {headers: {'If-None-Match': `"nope", ${etag}`}});
	t.is(byList.status, 304);

	const byDate = await request(mirror.url, tarball, {headers: {'If-Modified-Since': lastModified}});
	t.is(byDate.status, 304);

	const headConditional = await request(mirror.url, tarball, {
		method: 'HEAD',
		headers: {'If-None-Match': etag},
	});
	t.is(headConditional.status, 304);

	const stale = await request(mirror.url, tarball, {headers: {'If-None-Match': '"0123456789abcdef0123"'}});
	t.is(stale.status, 200);
	t.true(stale.body.equals(upstreamBytes(tarball)));

	const older = await request(mirror.url, tarball, {
		headers: {'If-Modified-Since': new Date(Date.parse(lastModified) - 60_000).toUTCString()},
	});
	t.is(older.status, 200);

	// Each file has its own validator.
	const sidecar = await request(mirror.url, `${tarball}.sha512`);
	t.not(sidecar.headers.etag, etag);
});

test('single byte ranges: 206 with Content-Range, suffix and open ranges', async (t) => {
	const bytes = upstreamBytes(tarball);
	const size = bytes.length;
	const cases: Array<[string, number, number]> = [
		['bytes=0-99', 0, 99],
		['bytes=1000-', 1000, size - 1],
		['bytes=-500', size - 500, size - 1],
		['bytes=100-9999999', 100, size - 1],
	];
	for (const [range, start, end] of cases) {
		const response = await request(mirror.url, tarball, {headers: {Range: range}});
		t.is(response.status, 206, range);
		t.is(response.headers['content-range'], `bytes ${start}-${end}/${size}`, range);
		t.is(response.headers['content-length'], String(end - start + 1), range);
		t.true(response.body.equals(bytes.subarray(start, end + 1)), range);
		t.is(response.headers['content-type'], 'application/gzip', range);
	}

	const head = await request(mirror.url, tarball, {method: 'HEAD', headers: {Range: 'bytes=0-9'}});
	t.is(head.status, 206);
	t.is(head.headers['content-length'], '10');
});

test('unsatisfiable ranges get 416 with the size; multi-range and malformed ranges get the whole file', async (t) => {
	const bytes = upstreamBytes(tarball);
	const unsatisfiable = await request(mirror.url, tarball, {headers: {Range: `bytes=${bytes.length}-`}});
	t.is(unsatisfiable.status, 416);
	t.is(unsatisfiable.headers['content-range'], `bytes */${bytes.length}`);
	t.is(unsatisfiable.headers['cache-control'], 'no-store');

	for (const range of ['bytes=0-9,20-29', 'bytes=abc', 'items=0-9']) {
		const response = await request(mirror.url, tarball, {headers: {Range: range}});
		t.is(response.status, 200, range);
		t.true(response.body.equals(bytes), range);
	}
});

test('If-Range: a matching ETag or date keeps the range; a stale one gets the whole new file', async (t) => {
	const bytes = upstreamBytes(tarball);
	const first = await request(mirror.url, tarball, {method: 'HEAD'});
	const etag = first.headers.etag ?? '';
	const date = first.headers['last-modified'] ?? '';

	const matching = await request(mirror.url, tarball, {headers: {Range: 'bytes=10-19', 'If-Range': etag}});
	t.is(matching.status, 206);
	t.true(matching.body.equals(bytes.subarray(10, 20)));

	const byDate = await request(mirror.url, tarball, {headers: {Range: 'bytes=10-19', 'If-Range': date}});
	t.is(byDate.status, 206);

	for (const stale of ['"00000000000000000000"', `W/${etag}`, 'Mon, 01 Jan 2024 00:00:00 GMT']) {
		const response = await request(mirror.url, tarball, {headers: {Range: 'bytes=10-19', 'If-Range': stale}});
		t.is(response.status, 200, stale);
		t.true(response.body.equals(bytes), stale);
	}
});

test('Cache-Control: immutable for released artifacts and their sidecars, revalidated for SNAPSHOTs, short elsewhere', async (t) => {
	const cacheOf = async (path: string, accept?: string) =>
		(await request(mirror.url, path, accept ? {headers: {Accept: accept}} : {})).headers['cache-control'];
	for (const path of [tarball, `${tarball}.sha512`, `${tarball}.asc`]) {
		t.is(await cacheOf(path), 'public, max-age=31536000, immutable', path);
	}

	for (const path of [snapshot, `${snapshot}.sha512`, `${snapshot}.asc`]) {
		t.is(await cacheOf(path), 'public, no-cache', path);
	}

	for (const path of [
		'/GPG-KEY-elasticsearch',
		'/',
		'/downloads/beats/',
		'/api/v1/artifacts',
		'/v1/versions',
	]) {
		t.is(await cacheOf(path), 'public, max-age=60', path);
	}

	t.is(await cacheOf('/downloads/beats/', 'application/json'), 'public, max-age=60');
	t.is(await cacheOf('/api/v1/status'), 'no-cache');
	t.is(await cacheOf('/downloads/nothing-here.tar.gz'), 'no-store');
});

test('generated pages and JSON carry an ETag and answer 304', async (t) => {
	for (const path of ['/', '/api/v1/artifacts', '/v1/versions', '/downloads/beats/elastic-agent/']) {
		const first = await request(mirror.url, path);
		t.is(first.status, 200, path);
		t.regex(first.headers.etag ?? '', /^"[0-9a-f]+"$/, path);
		const again = await request(mirror.url, path, {headers: {'If-None-Match': first.headers.etag ?? ''}});
		t.is(again.status, 304, path);
	}
});
