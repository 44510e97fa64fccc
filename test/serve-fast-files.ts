/**
The fast path of small files (src/server/tree/fast-files.ts) answers exactly as the koa
path does: two apps over the same tree, one with the fast path off, are asked the same
matrix of requests, and every status line, raw header (but Date), body, access log line
and request metric must agree, while the fast one's sidecars never reach koa.
*/
import {mkdir, rename, rm, symlink, writeFile} from 'node:fs/promises';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import {createApp, type MirrorApp} from '../src/server/app.js';
import {serveStore} from '../src/server/served-mirror.js';
import {fastFiles} from '../src/server/tree/fast-files.js';
import {dirLocation} from '../src/store/location.js';
import {openStore} from '../src/store/open.js';
import type {Teardown} from './helpers/teardown.js';
import {tempDir} from './helpers/temp.js';

const agent = 'downloads/beats/elastic-agent';
const released = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';
const snapshot = 'elastic-agent-9.2.0-SNAPSHOT-linux-x86_64.tar.gz';

async function tree(t: Teardown): Promise<string> {
	const dir = await tempDir(t);
	await mkdir(path.join(dir, agent), {recursive: true});
	await mkdir(path.join(dir, 'downloads/misc/folder'), {recursive: true});
	await mkdir(path.join(dir, 'downloads/endpoint/manifest'), {recursive: true});
	await writeFile(path.join(dir, agent, `${released}.sha512`), `${'a'.repeat(128)}  ${released}\n`);
	await writeFile(path.join(dir, agent, `${released}.asc`), '-----BEGIN PGP SIGNATURE-----\nxyz\n');
	await writeFile(path.join(dir, agent, released), 'a small artifact');
	await writeFile(path.join(dir, agent, `${snapshot}.sha512`), `${'b'.repeat(128)}  ${snapshot}\n`);
	await writeFile(path.join(dir, 'downloads/misc/readme.txt'), 'hello, world\n');
	await writeFile(path.join(dir, 'downloads/misc/page.html'), '<p>hi</p>\n');
	await writeFile(path.join(dir, 'downloads/misc/empty.txt'), '');
	await writeFile(path.join(dir, 'downloads/endpoint/manifest/artifacts-9.1.3.zip'), 'defend');
	await symlink(path.join(dir, 'downloads/misc/readme.txt'), path.join(dir, 'downloads/misc/link.txt'));
	return dir;
}

type Side = {url: string; app: MirrorApp; lines: string[]; koaRequests: () => number};

async function side(
	t: Teardown,
	dir: string,
	fast: boolean,
	state: {draining: boolean},
	trustProxy: boolean,
) {
	const lines: string[] = [];
	const logger = pino({base: undefined, timestamp: false}, {write: (line: string) => lines.push(line)});
	const store = await openStore({location: dirLocation(dir)});
	const mirror = await serveStore(store, {redirect: false, refreshMs: 5000});
	const app = createApp({mirror, logger, trustProxy, isDraining: () => state.draining, fastFiles: fast});
	let koa = 0;
	app.app.middleware.unshift(async (_ctx, next) => {
		koa++;
		await next();
	});
	const server = http.createServer(app.handler);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => {
		server.closeAllConnections();
		server.close();
		app.close();
	});
	const {port} = server.address() as AddressInfo;
	return {url: `http://127.0.0.1:${port}`, app, lines, koaRequests: () => koa} satisfies Side;
}

type Answer = {status: string; headers: string[]; body: string};

function ask(base: string, target: string, method: string, headers: Record<string, string>): Promise<Answer> {
	const url = new URL(base);
	return new Promise((resolve, reject) => {
		const req = http.request({
			host: url.hostname,
			port: url.port,
			path: target,
			method,
			headers,
			agent: false,
		});
		req.on('response', (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => {
				const raw = res.rawHeaders;
				const kept: string[] = [];
				for (let index = 0; index < raw.length; index += 2) {
					if (raw[index]?.toLowerCase() !== 'date') {
						kept.push(`${raw[index]}: ${raw[index + 1]}`);
					}
				}

				resolve({
					status: `${res.statusCode} ${res.statusMessage}`,
					headers: kept,
					body: Buffer.concat(chunks).toString('latin1'),
				});
			});
		});
		req.on('error', reject);
		req.end();
	});
}

/** The request metrics (the duration histogram by its counts: its sums and buckets are timings). */
async function requestMetrics(app: MirrorApp): Promise<string[]> {
	const text = await app.metrics.registry.metrics();
	return text
		.split('\n')
		.filter((line) =>
			/^mirror_http_(requests_total|response_bytes_total|requests_in_flight|request_duration_seconds_count)/.test(
				line,
			),
		)
		.sort();
}

const paths = [
	`/${agent}/${released}.sha512`,
	`/${agent}/${released}.asc`,
	`/${agent}/${snapshot}.sha512`,
	`/${agent}/${released}`,
	`/${agent}/${released}.sha512?x=1`,
	`/${agent}//${released}.sha512`,
	`/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz%2esha512`,
	'/downloads/misc/readme.txt',
	'/downloads/misc/page.html',
	'/downloads/misc/empty.txt',
	'/downloads/misc/link.txt',
	'/downloads/misc/missing.txt',
	'/downloads/misc/folder',
	'/downloads/misc/folder/',
	'/downloads/misc/../misc/readme.txt',
	'/downloads/misc%2freadme.txt',
	'/downloads/misc/readme.txt%00',
	'/downloads/misc/.hidden',
	'/downloads/misc/readme.txt#frag',
	'/downloads/endpoint/manifest/artifacts-9.1.3.zip',
	'/GPG-KEY-elasticsearch',
];

function conditions(etag: string): Array<Record<string, string>> {
	return [
		{},
		{'If-None-Match': etag},
		{'If-None-Match': `"other", ${etag}`},
		{'If-None-Match': '"other"'},
		{'If-None-Match': etag, 'Cache-Control': 'no-cache'},
		{'If-Modified-Since': new Date(Date.now() + 86_400_000).toUTCString()},
		{'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT'},
		{Range: 'bytes=0-9'},
		{Range: 'bytes=5-'},
		{Range: 'bytes=-4'},
		{Range: 'bytes=100000-200000'},
		{Range: 'bytes=0-1,4-5'},
		{Range: 'items=0-1'},
		{Range: 'bytes=0-3', 'If-Range': etag},
		{Range: 'bytes=0-3', 'If-Range': '"other"'},
		{'X-Forwarded-For': '203.0.113.7, 10.0.0.1', 'User-Agent': 'Beat elastic-agent v9.1.3'},
		{Accept: 'application/json'},
	];
}

for (const trustProxy of [false, true]) {
	test(`the fast path answers as koa does (trust proxy: ${trustProxy})`, async (t) => {
		const dir = await tree(t);
		const state = {draining: false};
		const slow = await side(t, dir, false, state, trustProxy);
		const fast = await side(t, dir, true, state, trustProxy);
		const compare = async (target: string, method: string, headers: Record<string, string>) => {
			const label = `${method} ${target} ${JSON.stringify(headers)}`;
			const expected = await ask(slow.url, target, method, headers);
			const actual = await ask(fast.url, target, method, headers);
			t.deepEqual(actual, expected, label);
		};

		// The first answer of each file puts it in memory on both sides.
		for (const target of paths) {
			await compare(target, 'GET', {});
		}

		await ask(fast.url, paths[0] ?? '', 'GET', {});
		const etag = (await ask(slow.url, paths[0] ?? '', 'GET', {})).headers
			.find((line) => line.startsWith('ETag: '))
			?.slice(6);
		t.truthy(etag);
		for (const target of paths) {
			for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
				for (const headers of conditions(etag ?? '')) {
					await compare(target, method, headers);
				}
			}
		}

		state.draining = true;
		await compare(paths[0] ?? '', 'GET', {});
		await compare(paths[0] ?? '', 'HEAD', {'If-None-Match': etag ?? ''});
		state.draining = false;

		// Metrics and access log lines are written when each response closes.
		await new Promise((resolve) => setTimeout(resolve, 100));
		t.deepEqual(await requestMetrics(fast.app), await requestMetrics(slow.app));
		const logged = (side: Side) => side.lines.map((line) => line.replace(/"ms":[\d.]+/, '"ms":0'));
		t.is(fast.lines.length, slow.lines.length);
		t.deepEqual(logged(fast), logged(slow));
		t.true(fast.lines.some((line) => line.includes('"ip":"203.0.113.7"')) === trustProxy);

		// The sidecars in memory never reached koa on the fast side.
		const before = fast.koaRequests();
		for (let count = 0; count < 5; count++) {
			await ask(fast.url, paths[0] ?? '', 'GET', {});
			await ask(fast.url, paths[1] ?? '', 'HEAD', {Range: 'bytes=0-3'});
		}

		t.is(fast.koaRequests(), before);
		await ask(fast.url, `/${agent}/${released}`, 'GET', {});
		t.is(fast.koaRequests(), before + 1, 'an artifact goes through koa');
	});
}

test('no fast path over a source that holds nothing in memory or checks the store first (the object store)', (t) => {
	const base = {list: async () => undefined, open: () => 'missing' as const};
	const app = {} as Parameters<typeof fastFiles>[0]['app'];
	const metrics = {} as Parameters<typeof fastFiles>[0]['metrics'];
	const options = {metrics, logger: undefined, isDraining: () => false, app};
	t.is(fastFiles({...options, source: base}), undefined);
	t.is(
		fastFiles({...options, source: {...base, cached: () => undefined, beforeRequest: async () => undefined}}),
		undefined,
	);
	t.is(typeof fastFiles({...options, source: {...base, cached: () => undefined}}), 'function');
});

test('a sidecar in memory is not served once a folder on its way is a link, not even to the same file', async (t) => {
	const dir = await tree(t);
	const fast = await side(t, dir, true, {draining: false}, false);
	const target = `/${agent}/${released}.sha512`;
	t.is((await ask(fast.url, target, 'GET', {})).status, '200 OK');
	t.is((await ask(fast.url, target, 'GET', {})).status, '200 OK');
	// The same folder (the same files, the same inodes), reached through a link now.
	await rename(path.join(dir, 'downloads/beats'), path.join(dir, 'downloads/beats-real'));
	await symlink(path.join(dir, 'downloads/beats-real'), path.join(dir, 'downloads/beats'));
	t.is((await ask(fast.url, target, 'GET', {})).status, '404 Not Found');
	t.is((await ask(fast.url, target, 'HEAD', {})).status, '404 Not Found');
	// The link gone and the folder back: served again, from memory.
	await rm(path.join(dir, 'downloads/beats'));
	await rename(path.join(dir, 'downloads/beats-real'), path.join(dir, 'downloads/beats'));
	const before = fast.koaRequests();
	t.is((await ask(fast.url, target, 'GET', {})).status, '200 OK');
	t.is(fast.koaRequests(), before);
});
