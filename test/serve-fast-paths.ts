import {randomBytes} from 'node:crypto';
import {mkdir, rename, writeFile} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import test from 'ava';
import {request} from './helpers/http.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const folder = 'downloads/beats/elastic-agent';
const name = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';

async function tree(t: Parameters<typeof tempDir>[0]) {
	const dir = await tempDir(t);
	await mkdir(path.join(dir, folder), {recursive: true});
	return dir;
}

test('a sidecar replaced by rename is served new at once, never from a stale in-memory copy', async (t) => {
	const dir = await tree(t);
	const file = path.join(dir, folder, `${name}.sha512`);
	await writeFile(file, `${'a'.repeat(128)}  ${name}\n`);
	const server = await withServer(t, dir);
	const first = await request(server.url, `/${folder}/${name}.sha512`);
	const cached = await request(server.url, `/${folder}/${name}.sha512`);
	t.is(cached.body.toString(), first.body.toString());
	t.is(cached.headers.etag, first.headers.etag);

	// Same size, new bytes, published the way sync publishes: a new file renamed over.
	await writeFile(`${file}.tmp`, `${'b'.repeat(128)}  ${name}\n`);
	await rename(`${file}.tmp`, file);
	const after = await request(server.url, `/${folder}/${name}.sha512`);
	t.is(after.body.toString(), `${'b'.repeat(128)}  ${name}\n`);
	t.not(after.headers.etag, first.headers.etag);
	t.is(after.headers['content-length'], String(after.body.length));
});

test('large bodies through the reused buffers: whole, ranges across chunk edges, HEAD, and a client that leaves', async (t) => {
	const dir = await tree(t);
	const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
	await writeFile(path.join(dir, folder, name), bytes);
	const server = await withServer(t, dir);
	const url = `/${folder}/${name}`;

	const whole = await request(server.url, url);
	t.is(whole.status, 200);
	t.true(whole.body.equals(bytes));
	const edges: Array<[number, number]> = [
		[1024 * 1024 - 1, 2 * 1024 * 1024 + 1],
		[16 * 1024, 16 * 1024],
		[bytes.length - 70_000, bytes.length - 1],
	];
	for (const [start, end] of edges) {
		const part = await request(server.url, url, {headers: {Range: `bytes=${start}-${end}`}});
		t.is(part.status, 206);
		t.true(part.body.equals(bytes.subarray(start, end + 1)), `${start}-${end}`);
	}

	const head = await request(server.url, url, {method: 'HEAD'});
	t.is(head.headers['content-length'], String(bytes.length));
	t.is(head.body.length, 0);

	// A client that reads a little and hangs up must not disturb the next one.
	await new Promise<void>((resolve) => {
		http.get(`${server.url}${url}`, (response) => {
			response.once('data', () => {
				response.destroy();
				resolve();
			});
		});
	});
	const next = await request(server.url, url);
	t.true(next.body.equals(bytes));
});

test('buffers handed from one response to the next never mix bytes: waves of downloads, some slow, some cut short', async (t) => {
	const dir = await tree(t);
	const files = ['9.1.3', '9.1.4'].map((version) => ({
		url: `/${folder}/elastic-agent-${version}-linux-x86_64.tar.gz`,
		bytes: randomBytes(2 * 1024 * 1024 + 777),
	}));
	for (const file of files) {
		await writeFile(path.join(dir, file.url), file.bytes);
	}

	const server = await withServer(t, dir);
	const download = (file: (typeof files)[number], mode: 'fast' | 'slow' | 'cut') =>
		new Promise<Buffer | undefined>((resolve, reject) => {
			http
				.get(`${server.url}${file.url}`, (response) => {
					const chunks: Buffer[] = [];
					response.on('data', (chunk: Buffer) => {
						chunks.push(chunk);
						if (mode === 'cut' && chunks.length === 2) {
							response.destroy();
							resolve(undefined);
						} else if (mode === 'slow') {
							response.pause();
							setTimeout(() => response.resume(), 2);
						}
					});
					response.on('end', () => resolve(Buffer.concat(chunks)));
					response.on('error', reject);
				})
				.on('error', reject);
		});

	for (let wave = 0; wave < 3; wave++) {
		const modes = ['fast', 'slow', 'cut'] as const;
		const runs = Array.from({length: 24}, (_, index) => {
			const file = files[index % 2] as (typeof files)[number];
			const mode = modes[(index + wave) % 3] as (typeof modes)[number];
			return download(file, mode).then((body) => ({file, mode, body}));
		});
		for (const {file, mode, body} of await Promise.all(runs)) {
			if (mode !== 'cut') {
				t.true(body?.equals(file.bytes), `wave ${wave}, ${mode} download of ${file.url}`);
			}
		}
	}
});
