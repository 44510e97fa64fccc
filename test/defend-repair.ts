/**
verify --repair on Elastic Defend content with the real sync behind it: a damaged
artifact goes to quarantine with the manifests naming it, and exactly the affected
versions are fetched again from --defend-upstream (a fake security host on loopback).
*/
import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {standardDefendVersions, startFakeSecurityHost} from './helpers/fake-security.js';
import {createTestKey} from './helpers/keys.js';
import {runCli} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';

test('verify --repair fetches damaged Defend files again, byte-identical, and only those versions', async (t) => {
	const versions = standardDefendVersions.filter((version) => version.version !== '9.1.2');
	const host = await startFakeSecurityHost({versions});
	t.teardown(() => host.close());
	const dir = await tempDir(t);
	const keyPath = await (await createTestKey()).writePublic(await tempDir(t, 'keys-'));
	const common = ['--dir', dir, '--trusted-key', keyPath, '--defend-upstream', host.url];
	const synced = await runCli(['sync', '--no-json', ...common, '--defend-artifacts', '8.19.3,9.0.7,9.1.3']);
	t.is(synced.code, 0, synced.stdout + synced.stderr);

	// An artifact only 8.19.3 names, damaged in place (same size).
	const only8 = host
		.filesOf('8.19.3')
		.find(
			(file) =>
				file.includes('/artifacts/') &&
				!host.filesOf('9.0.7').includes(file) &&
				!host.filesOf('9.1.3').includes(file),
		);
	t.truthy(only8);
	const damaged = path.join(dir, only8 as string);
	const bytes = await readFile(damaged);
	bytes.writeUInt8((bytes.readUInt8(3) + 1) % 256, 3);
	await writeFile(damaged, bytes);

	const found = await runCli(['verify', ...common]);
	t.is(found.code, 1);
	t.regex(found.stdout, new RegExp(`bad: ${(only8 as string).replaceAll('/', '\\/')}: `));

	const before = host.requests.length;
	const repaired = await runCli(['verify', '--repair', ...common]);
	t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
	t.regex(repaired.stdout, new RegExp(`fetched again: ${(only8 as string).replaceAll('/', '\\/')}`));
	t.regex(repaired.stdout, /fetched again: downloads\/endpoint\/manifest\/artifacts-8\.19\.3\.zip/);
	const asked = host.requests.slice(before).map((request) => request.path);
	t.true(asked.includes('/downloads/endpoint/manifest/artifacts-8.19.3.zip'));
	t.false(
		asked.some((asked) => asked.includes('artifacts-9.0.7') || asked.includes('artifacts-9.1.3')),
		'only the affected version is asked for',
	);

	for (const file of host.filesOf('8.19.3')) {
		t.deepEqual(await readFile(path.join(dir, file)), host.file(file), file);
	}

	t.false(
		(await listFiles(dir)).some((file) => file.startsWith('.mirror/quarantine/')),
		'repaired copies leave quarantine',
	);
	const clean = await runCli(['verify', ...common]);
	t.is(clean.code, 0, clean.stdout);
});
