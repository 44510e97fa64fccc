/** The cache of open package zips: shared openings, least recently used closed first, failures and forgotten zips opened again. */
import test from 'ava';
import {cachedZips, type ZipRef} from '../src/server/registry/package-files.js';
import type {OpenZip} from '../src/zip.js';

function tracker() {
	const opened: string[] = [];
	const closed: string[] = [];
	const failing = new Set<string>();
	const open = async (zip: ZipRef): Promise<OpenZip | undefined> => {
		opened.push(zip.relative);
		if (failing.has(zip.relative)) {
			throw new Error('unreadable');
		}

		if (zip.relative.startsWith('missing')) {
			return undefined;
		}

		return {
			entries: new Map(),
			open: async () => Promise.reject(new Error('none')),
			close: () => closed.push(zip.relative),
		};
	};

	return {opened, closed, failing, open};
}

const ref = (relative: string, sha512 = 'a'): ZipRef => ({relative, size: 1, sha512});
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('concurrent requests share one opening; a new sha512 is a new zip', async (t) => {
	const zips = tracker();
	const cache = cachedZips(zips.open, 4);
	const [a, b] = await Promise.all([cache.openZip(ref('x')), cache.openZip(ref('x'))]);
	t.is(a, b);
	await cache.openZip(ref('x', 'b'));
	t.deepEqual(zips.opened, ['x', 'x']);
});

test('past the limit the least recently used zip is closed', async (t) => {
	const zips = tracker();
	const cache = cachedZips(zips.open, 2);
	await cache.openZip(ref('one'));
	await cache.openZip(ref('two'));
	await cache.openZip(ref('one'));
	await cache.openZip(ref('three'));
	await settle();
	t.deepEqual(zips.closed, ['two']);
	await cache.openZip(ref('one'));
	t.deepEqual(zips.opened, ['one', 'two', 'three']);
});

test('a failed or missing zip is not kept; a forgotten one is closed and opened again', async (t) => {
	const zips = tracker();
	const cache = cachedZips(zips.open, 4);
	zips.failing.add('bad');
	await t.throwsAsync(cache.openZip(ref('bad')));
	zips.failing.delete('bad');
	t.truthy(await cache.openZip(ref('bad')));
	t.is(await cache.openZip(ref('missing')), undefined);
	await settle();
	await cache.openZip(ref('missing'));
	t.deepEqual(zips.opened, ['bad', 'bad', 'missing', 'missing']);
	cache.forget(ref('bad'));
	await settle();
	t.deepEqual(zips.closed, ['bad']);
	await cache.openZip(ref('bad'));
	t.is(zips.opened.filter((each) => each === 'bad').length, 3);
	cache.close();
	await settle();
	t.deepEqual(zips.closed, ['bad', 'bad']);
});
