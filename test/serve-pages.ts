import {readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {tempDir} from './helpers/temp.js';
import {withMirror, withServer} from './helpers/with-server.js';

function links(page: string): string[] {
	return [...page.matchAll(/\b(?:href|src)="([^"#][^"]*)"/g)]
		.map((match) => (match[1] ?? '').replaceAll('&amp;', '&'))
		.filter((link) => !link.startsWith('data:'));
}

test('an empty mirror says what to do instead of offering Fleet URLs and links that 404', async (t) => {
	const server = await withServer(t, await tempDir(t));
	const page = (await request(server.url, '/')).text;
	t.regex(page, /The mirror is empty/);
	t.regex(page, /artifact-mirror sync --versions latest/);
	t.false(page.includes(`${server.url}/downloads/`), 'no download host to paste into Fleet yet');
	t.false(page.includes(`${server.url}/GPG-KEY-elastic-agent`), 'no PGP key URL yet');
	for (const link of links(page)) {
		const target = new URL(link, `${server.url}/`);
		t.is((await request(server.url, target.pathname)).status, 200, link);
	}
});

test('the holdings line counts signing keys apart from artifacts, as the run counts include both', async (t) => {
	const mirror = await withMirror(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
	});
	const page = (await request(mirror.url, '/')).text;
	// Two artifacts and the two signing keys were published by the sync.
	t.regex(
		page,
		/Holding 2 artifacts \([^)]+\) of 1 version, newest <strong>9\.1\.3<\/strong>, and 2 signing keys\./,
	);
});

test('the PGP key URL for Fleet Server is offered only while the mirror holds that key', async (t) => {
	const mirror = await withMirror(t, await createTestKey(), {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
	});
	const pgpUrl = `${mirror.url}/GPG-KEY-elastic-agent`;
	t.true((await request(mirror.url, '/')).text.includes(pgpUrl));

	// A sync that refused upstream's key file (an untrusted key in it) leaves the key out of the manifest.
	const manifestPath = path.join(mirror.dir, '.mirror', 'manifest.json');
	const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {keys: Record<string, unknown>};
	delete manifest.keys['GPG-KEY-elastic-agent'];
	await writeFile(manifestPath, JSON.stringify(manifest));
	await rm(path.join(mirror.dir, 'GPG-KEY-elastic-agent'));
	let page = '';
	for (let i = 0; i < 100; i++) {
		page = (await request(mirror.url, '/')).text;
		if (!page.includes(pgpUrl)) {
			break;
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 100);
		});
	}

	t.false(page.includes(pgpUrl), 'a PGP key URL that answers 404');
	t.regex(page, /not mirrored yet: the next sync brings <code>GPG-KEY-elastic-agent<\/code>/);
	for (const link of links(page)) {
		const target = new URL(link, `${mirror.url}/`);
		t.is((await request(mirror.url, target.pathname)).status, 200, link);
	}
});
