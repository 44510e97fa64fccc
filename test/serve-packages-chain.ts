/**
A mirror as another mirror's registry: sync from the fake registry into mirror A,
serve A, sync mirror B from A with `--registry`; B then holds what A holds, byte for
byte, and serves the same answers.
*/
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {runSync} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

test('a second mirror syncs from this one as its --registry and holds and serves the same', async (t) => {
	const key = await createTestKey();
	const fake = await startFakeRegistry({key, packages: standardPackages});
	t.teardown(() => fake.close());
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const flags = (dir: string, registry: string) => ({
		dir,
		registry,
		packages: 'all',
		'kibana-versions': '8.15.0,9.0.0,9.1.0',
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [keyPath],
		'retry-delay': '5',
		timeout: '5',
	});
	const first = await tempDir(t, 'mirror-a-');
	const a = await runSync(flags(first, fake.url));
	// The tampered package fails its signature and is not published; the rest are.
	t.is(a.summary.result, 'failed');
	const served = await withServer(t, first);
	const second = await tempDir(t, 'mirror-b-');
	const b = await runSync(flags(second, served.url));
	t.is(b.summary.result, 'success', JSON.stringify(b.summary));
	const files = async (dir: string) =>
		(await listFiles(dir)).filter((file) => file.startsWith('epr/')).sort();
	const held = await files(first);
	t.true(held.length > 0);
	t.deepEqual(await files(second), held);
	for (const file of held) {
		t.true((await readFile(path.join(second, file))).equals(await readFile(path.join(first, file))), file);
	}

	const chained = await withServer(t, second);
	for (const query of ['', '?kibana.version=9.0.0', '?all=true&prerelease=true', '?category=observability']) {
		const [fromA, fromB] = await Promise.all([
			request(served.url, `/search${query}`),
			request(chained.url, `/search${query}`),
		]);
		t.is(fromB.text, fromA.text, query);
	}
});
