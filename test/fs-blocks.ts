/**
The directory source's shared blocks (src/server/tree/fs-blocks.ts, fs-source.ts) behind
a bare HTTP server that hands each request to `open` and `send` the way the tree handler
does: many downloads of one file read each block once, a file renamed over mid-download
never mixes versions, a budget too small for a block falls back to pooled reads, and
descriptors go back to idle.
*/
import {randomBytes} from 'node:crypto';
import {once} from 'node:events';
import {mkdir, readdir, rename, writeFile} from 'node:fs/promises';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import type {Context} from 'koa';
import {createFsSource, type FsSourceOptions} from '../src/server/tree/fs-source.js';
import {tempDir} from './helpers/temp.js';

const folder = 'downloads/beats/elastic-agent';
const name = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';
const blockBytes = 128 * 1024;

/** The one `bytes=a-b` range asked for, or the whole file. */
function parseRange(header: string | undefined, size: number) {
	const match = /^bytes=(\d+)-(\d+)$/.exec(header ?? '');
	return match ? {start: Number(match[1]), end: Number(match[2])} : {start: 0, end: size - 1};
}

/** Serve `dir` through a directory source: 200 or 206 (one `bytes=a-b` range), nothing else. */
async function serve(t: ExecutionContext, dir: string, options: FsSourceOptions = {}) {
	const source = createFsSource(dir, options);
	const server = http.createServer(async (req, res) => {
		const segments = (req.url ?? '/').slice(1).split('/');
		const file = await source.open({
			request: {segments, relative: segments.join('/'), trailingSlash: false} as never,
			kind: undefined,
			wholeBody: true,
			again: false,
		});
		if (typeof file === 'string') {
			res.writeHead(404).end();
			return;
		}

		const range = parseRange(req.headers.range, file.meta.size);
		res.setHeader('Content-Length', range.end - range.start + 1);
		res.setHeader('ETag', file.meta.etag);
		const ctx = {req, res, status: req.headers.range ? 206 : 200, state: {}, respond: true};
		file.send(ctx as unknown as Context, range);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return {source, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`};
}

/** GET `url` whole; `paused` holds the body after its first chunk until it is called. */
function download(url: string, headers: Record<string, string> = {}, hold?: Promise<void>) {
	return new Promise<Buffer>((resolve, reject) => {
		http
			.get(url, {headers, agent: false}, (response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => {
					chunks.push(chunk);
					if (hold && chunks.length === 1) {
						response.pause();
						void hold.then(() => response.resume());
					}
				});
				response.on('end', () => resolve(Buffer.concat(chunks)));
				response.on('error', reject);
			})
			.on('error', reject);
	});
}

async function tree(t: ExecutionContext, bytes: Buffer) {
	const dir = await tempDir(t);
	await mkdir(path.join(dir, folder), {recursive: true});
	await writeFile(path.join(dir, folder, name), bytes);
	return dir;
}

const descriptors = async () => (await readdir('/proc/self/fd')).length;

/** Descriptors back to `idle` (or fewer): a response lets go of its file just after its last byte went out. */
async function settled(idle: number): Promise<number> {
	for (let tries = 0; tries < 50 && (await descriptors()) > idle; tries++) {
		await new Promise((resolve) => setTimeout(resolve, 20));
	}

	return descriptors();
}

test.serial(
	'twenty downloads of one file read each block once; ranges across block edges are exact',
	async (t) => {
		const bytes = randomBytes(3 * blockBytes + 5000);
		const {source, url} = await serve(t, await tree(t, bytes));
		const target = `${url}/${folder}/${name}`;
		const idle = await descriptors();
		const bodies = await Promise.all(Array.from({length: 20}, () => download(target)));
		for (const body of bodies) {
			t.true(body.equals(bytes));
		}

		t.is(source.blockStats().fetches, 4);
		for (const [start, end] of [
			[blockBytes - 1, blockBytes],
			[blockBytes, 2 * blockBytes - 1],
			[10, 3 * blockBytes + 10],
			[bytes.length - 1, bytes.length - 1],
		] as const) {
			const part = await download(target, {Range: `bytes=${start}-${end}`});
			t.true(part.equals(bytes.subarray(start, end + 1)), `${start}-${end}`);
		}

		t.is(source.blockStats().fetches, 4);
		t.is(source.blockStats().pinnedBytes, 0);
		t.is(source.buffersInUse(), 0);
		t.true((await settled(idle)) <= idle, 'descriptors back to idle');
	},
);

test.serial(
	'a file renamed over mid-download: that download ends on the old bytes, the next gets the new ones whole',
	async (t) => {
		const old = randomBytes(4 * blockBytes + 1);
		const dir = await tree(t, old);
		// Two blocks of budget (half of it): the old download's blocks are evicted and read again from its descriptor.
		const {source, url} = await serve(t, dir, {streamBudgetBytes: 4 * blockBytes});
		const target = `${url}/${folder}/${name}`;
		const idle = await descriptors();
		let go: () => void = () => undefined;
		const held = download(target, {}, new Promise<void>((resolve) => (go = resolve)));
		await new Promise((resolve) => setTimeout(resolve, 100));

		// Same size, published the way sync publishes: a new file renamed over the old path.
		const fresh = randomBytes(old.length);
		const file = path.join(dir, folder, name);
		await writeFile(`${file}.tmp`, fresh);
		await rename(`${file}.tmp`, file);
		const after = await Promise.all([download(target), download(target)]);
		for (const body of after) {
			t.true(body.equals(fresh));
		}

		go();
		t.true((await held).equals(old));
		t.is(source.blockStats().pinnedBytes, 0);
		t.true((await settled(idle)) <= idle, 'descriptors back to idle');
	},
);

test.serial(
	'a budget smaller than a block: every download reads through pooled buffers, byte-exact',
	async (t) => {
		const bytes = randomBytes(2 * blockBytes + 100_000);
		const {source, url} = await serve(t, await tree(t, bytes), {streamBudgetBytes: 64 * 1024});
		const target = `${url}/${folder}/${name}`;
		const bodies = await Promise.all(Array.from({length: 8}, () => download(target)));
		for (const body of bodies) {
			t.true(body.equals(bytes));
		}

		const part = await download(target, {Range: `bytes=${blockBytes - 3}-${blockBytes + 3}`});
		t.true(part.equals(bytes.subarray(blockBytes - 3, blockBytes + 4)));
		t.is(source.blockStats().fetches, 0);
		t.true(source.blockStats().refused > 0);
		t.is(source.buffersInUse(), 0);
	},
);
