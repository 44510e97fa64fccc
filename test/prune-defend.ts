/**
prune on Elastic Defend protections: every run removes the artifacts no held
manifest names (those of a replaced manifest), an artifact named by several
versions stays while one of them is kept, --unselected drops the versions the sync
config's --defend-artifacts no longer selects and then the artifacts only they
named; a dry run deletes nothing, and what is left verifies.
*/
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {loadPruneConfig} from '../src/config/index.js';
import {planDefendPrune} from '../src/maintain/prune-defend.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {readManifest} from '../src/store/manifest.js';
import {parseVersionSpecs} from '../src/versions.js';
import {publishDefendVersions} from './helpers/defend-store.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {runCli} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';

const held = ['9.0.7', '9.1.3'];

/**
A mirror holding 9.0.7 and 9.1.3, then 9.1.3's next manifest (a new macOS exception
list): the previous list is named by no held manifest any more.
*/
async function mirror(
	t: ExecutionContext,
): Promise<{dir: string; upstream: FakeSecurityHost; replaced: string}> {
	const upstream = await startFakeSecurityHost({
		versions: standardDefendVersions.filter((version) => held.includes(version.version)),
	});
	t.teardown(() => upstream.close());
	const dir = await tempDir(t);
	await publishDefendVersions(dirLocation(dir), upstream, held);
	const before = upstream.filesOf('9.1.3');
	const spec = standardDefendVersions.find((version) => version.version === '9.1.3');
	await upstream.publish({
		version: '9.1.3',
		manifestVersion: '1.0.2440',
		artifacts: (spec?.artifacts ?? []).map((artifact) =>
			artifact.identifier === 'global-exceptionlist-macos'
				? {...artifact, content: JSON.stringify({entries: [{value: '/usr/bin/new'}]})}
				: artifact,
		),
	});
	await publishDefendVersions(dirLocation(dir), upstream, ['9.1.3']);
	const replaced = before.find((file) => file.includes('macos') && !upstream.filesOf('9.1.3').includes(file));
	t.truthy(replaced);
	return {dir, upstream, replaced: replaced as string};
}

test('the plan removes only artifacts no kept manifest names; a shared artifact stays while one version names it', async (t) => {
	const {dir, upstream, replaced} = await mirror(t);
	const {manifest} = await readManifest(layout(dir));
	const always = planDefendPrune(manifest.defend);
	t.deepEqual(always.versions, []);
	t.deepEqual(
		always.artifacts.map(({entry, reason}) => [entry.path, reason]),
		[[replaced, 'no Defend manifest the mirror keeps names it']],
	);

	const only913 = planDefendPrune(manifest.defend, parseVersionSpecs(['9.1.x'], 'test'));
	t.deepEqual(
		only913.versions.map(({entry}) => entry.version),
		['9.0.7'],
	);
	const shared = upstream.filesOf('9.0.7').filter((file) => upstream.filesOf('9.1.3').includes(file));
	t.is(shared.length, 2, 'the linux list and the model are shared');
	const expected = [
		...upstream
			.filesOf('9.0.7')
			.slice(1)
			.filter((file) => !shared.includes(file)),
		replaced,
	].sort();
	t.deepEqual(
		only913.artifacts.map(({entry}) => entry.path),
		expected,
	);
	t.deepEqual(planDefendPrune(manifest.defend, parseVersionSpecs(['latest'], 'test')).versions.length, 1);
	t.deepEqual(planDefendPrune(manifest.defend, parseVersionSpecs(['9.x'], 'test')).versions, []);
});

test('prune --defend-orphans prints the plan, deletes with --yes, and what is left verifies', async (t) => {
	const {dir, upstream, replaced} = await mirror(t);
	const before = await listFiles(dir);
	const dry = await runCli(['prune', '--defend-orphans', '--dir', dir]);
	t.is(dry.code, 0, dry.stderr);
	t.regex(
		dry.stdout,
		new RegExp(`^would delete ${replaced} \\(.*\\): no Defend manifest the mirror keeps names it$`, 'm'),
	);
	t.regex(
		dry.stdout,
		/^0 artifacts, 0 Defend manifests and 1 Defend artifacts \(.*\) would be deleted; run again with --yes/m,
	);
	t.deepEqual(await listFiles(dir), before);

	const done = await runCli(['prune', '--defend-orphans', '--yes', '--dir', dir]);
	t.is(done.code, 0, done.stderr);
	t.regex(done.stdout, /^deleted 0 artifacts, 0 Defend manifests and 1 Defend artifacts/m);
	const after = await listFiles(dir);
	t.deepEqual(
		before.filter((file) => !after.includes(file) && !file.startsWith('.mirror/')),
		[replaced],
	);
	for (const file of [...upstream.filesOf('9.0.7'), ...upstream.filesOf('9.1.3')]) {
		t.true(after.includes(file), `${file} was deleted`);
	}

	const verify = await runCli(['verify', '--dir', dir]);
	t.is(verify.code, 0, verify.stdout);

	// Any other rule prunes them too: nothing is left to prune now.
	const again = await runCli(['prune', '--keep-latest', '1', '--dir', dir]);
	t.regex(again.stdout, /^0 artifacts \(0 B\) would be deleted$/m);
});

test('prune --unselected drops the Defend versions the sync config no longer selects, then the artifacts only they named', async (t) => {
	const {dir, upstream, replaced} = await mirror(t);
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'mirror.yml'), `dir: ${dir}\ndefend-artifacts: [9.1.3]\n`);
	const config = loadPruneConfig({
		flags: {config: path.join(cwd, 'mirror.yml'), unselected: true} as never,
		env: {},
		cwd,
	});
	t.deepEqual(
		config.rules.defendVersions?.map((spec) => spec.text),
		['9.1.3'],
	);

	const done = await runCli(['prune', '--unselected', '--yes'], {cwd});
	t.is(done.code, 0, done.stderr);
	t.regex(
		done.stdout,
		/^deleted downloads\/endpoint\/manifest\/artifacts-9\.0\.7\.zip \(.*\): no longer selected by the sync config \(--defend-artifacts\)$/m,
	);
	const {manifest} = await readManifest(layout(dir));
	t.deepEqual(Object.keys(manifest.defend.versions), ['9.1.3']);
	t.deepEqual(Object.keys(manifest.defend.artifacts).sort(), upstream.filesOf('9.1.3').slice(1).sort());
	const after = await listFiles(dir);
	t.false(after.includes(replaced));
	t.deepEqual(after.filter((file) => file.startsWith('downloads/')).sort(), upstream.filesOf('9.1.3').sort());
	t.is((await runCli(['verify', '--dir', dir])).code, 0);

	// A config selecting no Defend leaves the versions alone.
	await writeFile(path.join(cwd, 'mirror.yml'), `dir: ${dir}\nversions: [9.1.3]\n`);
	const binaries = await runCli(['prune', '--unselected', '--yes'], {cwd});
	t.is(binaries.code, 0, binaries.stderr);
	t.regex(binaries.stdout, /^0 artifacts \(0 B\) would be deleted$/m);
	t.deepEqual(Object.keys((await readManifest(layout(dir))).manifest.defend.versions), ['9.1.3']);
});
