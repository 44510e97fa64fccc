/**
Checks shared by the directory and object-store package tests: a served file (a
package zip or signature, or a file from inside a zip) has its exact bytes and
length, no Content-Encoding even when gzip is accepted, a strong dash-free ETag,
single byte ranges and 304s.
*/
import type {ExecutionContext} from 'ava';
import {request} from './http.js';

/** Check the file at `path` of `base` against `expected`; returns its ETag. */
export async function checkServedFile(
	t: ExecutionContext,
	base: string,
	path: string,
	expected: Buffer,
	contentType: string,
): Promise<string> {
	const whole = await request(base, path, {headers: {'Accept-Encoding': 'gzip, br'}});
	t.is(whole.status, 200, path);
	t.true(whole.body.equals(expected), path);
	t.is(whole.headers['content-length'], String(expected.length), path);
	t.is(whole.headers['content-encoding'], undefined, path);
	t.is(whole.headers['content-type'], contentType, path);
	const etag = whole.headers.etag ?? '';
	t.regex(etag, /^"[^"-]+"$/, `${path}: a strong ETag without a dash`);
	const end = Math.min(49, expected.length - 1);
	const range = await request(base, path, {headers: {Range: 'bytes=5-49'}});
	t.is(range.status, 206, path);
	t.is(range.headers['content-range'], `bytes 5-${end}/${expected.length}`, path);
	t.true(range.body.equals(expected.subarray(5, end + 1)), path);
	const again = await request(base, path, {headers: {'If-None-Match': etag}});
	t.is(again.status, 304, path);
	t.is(again.body.length, 0, path);
	const head = await request(base, path, {method: 'HEAD'});
	t.is(head.headers['content-length'], String(expected.length), path);
	return etag;
}

/** Ask `probe` every 50 ms until it gives true; false when `limitMs` passed first. */
export async function eventually(probe: () => Promise<boolean>, limitMs = 15_000): Promise<boolean> {
	const until = Date.now() + limitMs;
	while (Date.now() < until) {
		if (await probe()) {
			return true;
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}

	return probe();
}
