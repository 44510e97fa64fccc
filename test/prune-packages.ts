/**
prune on package versions: --keep-package-versions by semver, --unselected against
the sync config's --packages, never a version a kept one requires, and a config that
selects only packages leaves the binaries alone.
*/
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {loadPruneConfig} from '../src/config/index.js';
import {planPackagePrune} from '../src/maintain/prune-packages.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {type PackageEntry, readManifest} from '../src/store/manifest.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {type BuiltPackage, buildPackage, publishPackages} from './helpers/package-mirror.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
let packages: BuiltPackage[];
test.before(async () => {
	key = await createTestKey();
	packages = await Promise.all([
		buildPackage(key, {name: 'nginx', version: '1.9.0'}),
		buildPackage(key, {name: 'nginx', version: '1.10.0'}),
		buildPackage(key, {
			name: 'nginx',
			version: '1.11.0',
			requires: {input: [{package: 'filestream', version: '~1.1.0'}]},
		}),
		buildPackage(key, {name: 'filestream', version: '1.1.0', type: 'input'}),
		buildPackage(key, {name: 'filestream', version: '1.2.0', type: 'input'}),
		buildPackage(key, {name: 'system', version: '2.0.0'}),
	]);
});

const zip = (name: string, version: string) => `epr/${name}/${name}-${version}.zip`;

/** A synced mirror with one binary version, and the package versions above. */
async function mirror(t: ExecutionContext) {
	const setup = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64'], size: 4096});
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
	);
	t.is(summary.result, 'success');
	await publishPackages(dirLocation(setup.dir), packages);
	const {manifest} = await readManifest(layout(setup.dir));
	return {...setup, entries: Object.values(manifest.packages) as PackageEntry[]};
}

test('the plan keeps the newest N of each package by semver, and whatever a kept version requires', async (t) => {
	const {entries} = await mirror(t);
	const plan = planPackagePrune(entries, {keepPackageVersions: 1});
	t.deepEqual(
		plan.actions.map((action) => [action.entry.path, action.reason]),
		[
			[zip('nginx', '1.10.0'), 'older than the newest 1 versions of nginx'],
			[zip('nginx', '1.9.0'), 'older than the newest 1 versions of nginx'],
		],
	);
	t.deepEqual(
		plan.spared.map(({entry, requiredBy}) => [entry.path, requiredBy]),
		[[zip('filestream', '1.1.0'), 'nginx@1.11.0']],
	);
	const two = planPackagePrune(entries, {keepPackageVersions: 2});
	t.deepEqual(
		two.actions.map((action) => action.entry.path),
		[zip('nginx', '1.9.0')],
	);
	t.deepEqual(planPackagePrune(entries, {keepLatest: 1}), {actions: [], spared: []});
	t.deepEqual(planPackagePrune(entries, {packages: [{kind: 'all'}]}), {actions: [], spared: []});
	const pinned = planPackagePrune(entries, {packages: [{kind: 'pin', name: 'nginx', version: '1.11.0'}]});
	t.deepEqual(
		pinned.actions.map((action) => action.entry.path),
		[zip('filestream', '1.2.0'), zip('nginx', '1.10.0'), zip('nginx', '1.9.0'), zip('system', '2.0.0')],
	);
});

test('prune --unselected with a config that selects only packages removes unnamed packages and leaves every binary', async (t) => {
	const m = await mirror(t);
	const cwd = await tempDir(t);
	await writeFile(
		path.join(cwd, 'mirror.yml'),
		`dir: ${m.dir}\npackages: [nginx]\nkibana-versions: [9.1.3]\n`,
	);
	const config = loadPruneConfig({flags: {unselected: true} as never, env: {}, cwd});
	t.is(config.rules.selection, undefined);
	t.deepEqual(config.notes, ['the sync config selects no binaries: --unselected leaves artifacts alone']);

	const dry = await runCli(['prune', '--unselected'], {cwd});
	t.is(dry.code, 0, dry.stderr);
	t.regex(dry.stdout, /^note: the sync config selects no binaries: --unselected leaves artifacts alone$/m);
	t.regex(
		dry.stdout,
		/would delete epr\/system\/system-2\.0\.0\.zip \(.* with its signature and info\): no longer selected by the sync config \(--packages\)/,
	);
	t.regex(dry.stdout, /would delete epr\/filestream\/filestream-1\.2\.0\.zip/);
	t.regex(dry.stdout, /keeping epr\/filestream\/filestream-1\.1\.0\.zip: nginx@1\.11\.0 requires it/);
	t.regex(dry.stdout, /0 artifacts and 2 package versions \(.*\) would be deleted; run again with --yes/);
	const before = await listFiles(m.dir);

	const done = await runCli(['prune', '--unselected', '--yes'], {cwd});
	t.is(done.code, 0, done.stderr);
	t.regex(done.stdout, /deleted 0 artifacts and 2 package versions/);
	const after = await listFiles(m.dir);
	t.deepEqual(
		before.filter((file) => !after.includes(file)).filter((file) => !file.startsWith('.mirror/')),
		[
			'epr/filestream/filestream-1.2.0.json',
			'epr/filestream/filestream-1.2.0.zip',
			'epr/filestream/filestream-1.2.0.zip.sig',
			'epr/system/system-2.0.0.json',
			'epr/system/system-2.0.0.zip',
			'epr/system/system-2.0.0.zip.sig',
		],
	);
	t.true(after.includes('downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz'));
	const {manifest} = await readManifest(layout(m.dir));
	t.is(Object.keys(manifest.files).length, 1);
	t.deepEqual(Object.keys(manifest.packages).sort(), [
		zip('filestream', '1.1.0'),
		zip('nginx', '1.10.0'),
		zip('nginx', '1.11.0'),
		zip('nginx', '1.9.0'),
	]);
});

test('prune --unselected with a binaries-only config leaves package versions alone; --keep-package-versions deletes', async (t) => {
	const m = await mirror(t);
	const cwd = await tempDir(t);
	await writeFile(
		path.join(cwd, 'mirror.yml'),
		`dir: ${m.dir}\nversions: [9.1.3]\nplatforms: [linux-x86_64]\n`,
	);
	const dry = await runCli(['prune', '--unselected'], {cwd});
	t.is(dry.code, 0, dry.stderr);
	t.regex(
		dry.stdout,
		/note: the sync config selects no packages: --unselected leaves package versions alone/,
	);
	t.regex(dry.stdout, /0 artifacts \(0 B\) would be deleted/);

	const keep = await runCli(['prune', '--keep-package-versions', '2', '--yes', '--dir', m.dir], {cwd});
	t.is(keep.code, 0, keep.stderr);
	t.regex(keep.stdout, /deleted epr\/nginx\/nginx-1\.9\.0\.zip/);
	t.regex(keep.stdout, /deleted 0 artifacts and 1 package versions/);
	const {manifest} = await readManifest(layout(m.dir));
	t.is(Object.keys(manifest.packages).length, 5);
	t.is(Object.keys(manifest.files).length, 1);
	const bad = await runCli(['prune', '--keep-package-versions', '0', '--dir', m.dir], {cwd});
	t.is(bad.code, 2);
});
