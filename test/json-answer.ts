/**
Large JSON answers cached per snapshot: kept gzipped (and as text up to a size), sent
gzipped to clients that accept it and inflated for the others, with distinct ETags.
*/
import {once} from 'node:events';
import type {AddressInfo} from 'node:net';
import {gunzipSync} from 'node:zlib';
import test from 'ava';
import Koa from 'koa';
import {arrayPieces, createJsonAnswers} from '../src/server/json-answer.js';
import type {Snapshot} from '../src/server/mirror-index.js';
import {request} from './helpers/http.js';

/** A server answering one JSON array of `count` items through `answers`, and how often it was built. */
async function answering(t: {teardown: (fn: () => void) => void}, textMaxBytes: number, count: number) {
	const answers = createJsonAnswers(64 * 1024 * 1024, textMaxBytes);
	const snapshot = {} as Snapshot;
	const items = Array.from({length: count}, (_, index) => ({index, path: `downloads/file-${index}.tar.gz`}));
	let built = 0;
	const app = new Koa();
	app.use((ctx) => {
		answers.send(ctx, snapshot, 'items', function* () {
			built++;
			yield '[';
			yield* arrayPieces(items, (item) => item);
			yield ']';
		});
	});
	const server = app.listen(0, '127.0.0.1');
	await once(server, 'listening');
	t.teardown(() => server.close());
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		text: JSON.stringify(items),
		built: () => built,
	};
}

test('an answer larger than the text limit is kept gzipped only and inflated, whole, for a client without gzip', async (t) => {
	const server = await answering(t, 1024, 5000);
	const first = await request(server.url, '/');
	t.is(first.text, server.text);
	const again = await request(server.url, '/');
	t.is(again.text, server.text, 'inflated from the gzipped copy');
	t.is(Number(again.headers['content-length']), Buffer.byteLength(server.text));
	const zipped = await request(server.url, '/', {headers: {'Accept-Encoding': 'gzip'}});
	t.is(zipped.headers['content-encoding'], 'gzip');
	t.is(gunzipSync(zipped.body).toString('utf8'), server.text);
	t.is(server.built(), 1, 'built once');
});

test('a client that refuses gzip gets the text, built or cached', async (t) => {
	const server = await answering(t, 16 * 1024 * 1024, 2000);
	const refuse = {'Accept-Encoding': 'gzip;q=0, identity'};
	for (let round = 0; round < 2; round++) {
		const answer = await request(server.url, '/', {headers: refuse});
		t.is(answer.headers['content-encoding'], undefined);
		t.is(answer.text, server.text);
	}

	t.is(server.built(), 1);
});
