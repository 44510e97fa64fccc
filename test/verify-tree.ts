/** verify looks at the whole served tree: files the manifest does not know, and links. */
import {copyFile, mkdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const folder = 'downloads/beats/elastic-agent';
const tar = `${folder}/elastic-agent-9.1.3-linux-x86_64.tar.gz`;

test('verify reports unknown files and links (exit 1); --repair removes stray links, fetches linked artifacts again, leaves unknown files', async (t) => {
	const setup = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: '9.1.3',
		platforms: 'linux-x86_64',
	});
	t.is((await runSync(flags)).summary.result, 'success');
	const verify = ['verify', '--dir', setup.dir, '--trusted-key', setup.keyPath];
	const clean = await runCli(verify);
	t.is(clean.code, 0, clean.stdout);

	const at = (relative: string) => path.join(setup.dir, relative);
	await writeFile(at(`${folder}/evil.sh`), '#!/bin/sh\n');
	await writeFile(at('notes.txt'), 'hello');
	await symlink('/etc/passwd', at('downloads/passwd'));
	await symlink('/etc', at('downloads/etc'));
	await symlink('../../../.mirror/manifest.json', at(`${folder}/manifest.json`));
	// A published sidecar replaced by a link to a good copy: the bytes verify, the link does not serve.
	const outside = path.join(await tempDir(t), 'copy.asc');
	await copyFile(at(`${tar}.asc`), outside);
	await rm(at(`${tar}.asc`));
	await symlink(outside, at(`${tar}.asc`));

	const found = await runCli(verify);
	t.is(found.code, 1, found.stdout);
	const bad = found.stdout
		.split('\n')
		.filter((line) => line.startsWith('bad: '))
		.map((line) => line.slice(5, line.indexOf(': ', 5)));
	t.deepEqual(bad.sort(), [
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz.asc',
		'downloads/beats/elastic-agent/evil.sh',
		'downloads/beats/elastic-agent/manifest.json',
		'downloads/etc',
		'downloads/passwd',
		'notes.txt',
	]);
	t.regex(found.stdout, /bad: notes\.txt: unknown file, not in the manifest, yet served: remove it by hand/);
	t.regex(found.stdout, /bad: downloads\/passwd: is a symbolic link/);

	const repaired = await runCli([...verify, '--repair', '--upstream', setup.upstream.url]);
	// The unknown files stay, so problems remain.
	t.is(repaired.code, 1, repaired.stdout);
	t.regex(repaired.stdout, /removed link: downloads\/passwd/);
	t.regex(
		repaired.stdout,
		/fetched again: downloads\/beats\/elastic-agent\/elastic-agent-9\.1\.3-linux-x86_64\.tar\.gz/,
	);
	for (const link of ['downloads/passwd', 'downloads/etc', `${folder}/manifest.json`]) {
		await t.throwsAsync(stat(at(link)), undefined, link);
	}

	t.truthy(await stat('/etc/passwd'), 'the link target is untouched');
	t.true((await stat(at(`${tar}.asc`))).isFile());
	t.deepEqual(await readFile(at(`${tar}.asc`)), setup.upstream.files.get(`${tar}.asc`));
	t.is(await readFile(at('notes.txt'), 'utf8'), 'hello');
	t.true((await listFiles(setup.dir)).includes(`${folder}/evil.sh`));

	await rm(at('notes.txt'));
	await rm(at(`${folder}/evil.sh`));
	const after = await runCli(verify);
	t.is(after.code, 0, after.stdout);
	await mkdir(at('downloads/empty-folder'));
	t.is((await runCli(verify)).code, 0, 'an empty folder serves nothing');
});
