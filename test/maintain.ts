import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {sync} from '../src/agent/sync.js';
import {loadVerifyConfig} from '../src/config/index.js';
import {planPrune, prune} from '../src/maintain/prune.js';
import {type VerifyOptions, verifyMirror} from '../src/maintain/verify.js';
import {acquireLock} from '../src/store/dir/lock.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {readManifest} from '../src/store/manifest.js';
import {parseVersionSpecs} from '../src/versions.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {listFiles} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

async function mirrorOf(t: Parameters<typeof withUpstream>[0], versions: string[]) {
	const setup = await withUpstream(t, key, {versions, platforms: ['linux-x86_64', 'windows-x86_64']});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: versions.join(','),
		platforms: 'linux-x86_64,windows-x86_64',
	});
	await runSync(flags);
	const verifyOptions = (repair: boolean, upstream = setup.upstream.url) => {
		const config = loadVerifyConfig({
			flags: {...flags, upstream, repair, versions: undefined} as never,
			env: {},
			cwd: process.cwd(),
		});
		const refetch: VerifyOptions['refetch'] = (only, onlyPackages, emit) =>
			sync({...config.sync, only, onlyPackages, dryRun: false}, emit);
		return {...config, refetch};
	};
	return {...setup, flags, verifyOptions};
}

const tar = (version: string) => `downloads/beats/elastic-agent/elastic-agent-${version}-linux-x86_64.tar.gz`;

test('verify passes a good mirror, finds a corrupted file, a bad sidecar and a missing signature; --repair restores them', async (t) => {
	const mirror = await mirrorOf(t, ['9.1.2', '9.1.3']);
	const clean = await verifyMirror(mirror.verifyOptions(false));
	t.is(clean.checked, 4 + 2);
	t.deepEqual(clean.problems, []);

	const before = await treeContents(mirror.dir);
	const corrupted = path.join(mirror.dir, tar('9.1.3'));
	const bytes = await readFile(corrupted);
	bytes.writeUInt8((bytes.readUInt8(100) + 1) % 256, 100);
	await writeFile(corrupted, bytes);
	const zip = 'downloads/beats/elastic-agent/elastic-agent-9.1.2-windows-x86_64.zip';
	await writeFile(
		path.join(mirror.dir, `${zip}.sha512`),
		`${'0'.repeat(128)}  elastic-agent-9.1.2-windows-x86_64.zip\n`,
	);
	const {rm} = await import('node:fs/promises');
	await rm(path.join(mirror.dir, `${tar('9.1.2')}.asc`));

	const found = await verifyMirror(mirror.verifyOptions(false));
	t.deepEqual(found.problems, [
		{path: tar('9.1.2'), problem: '.asc is missing'},
		{path: zip, problem: '.sha512 does not match the file'},
		{
			path: tar('9.1.3'),
			problem: 'sha512 differs from the manifest (the file changed after it was published)',
		},
	]);

	const cli = await runCli(['verify', '--dir', mirror.dir, '--trusted-key', mirror.keyPath]);
	t.is(cli.code, 1);
	t.regex(
		cli.stdout,
		/bad: downloads\/beats\/elastic-agent\/elastic-agent-9\.1\.3-linux-x86_64\.tar\.gz: sha512 differs/,
	);

	const repaired = await verifyMirror(mirror.verifyOptions(true));
	t.deepEqual([...repaired.repaired].sort(), [zip, tar('9.1.2'), tar('9.1.3')].sort());
	t.deepEqual(repaired.quarantined, []);
	t.true(sameTree(before, await treeContents(mirror.dir)));
	t.deepEqual((await verifyMirror(mirror.verifyOptions(false))).problems, []);
	t.false((await listFiles(mirror.dir)).some((file) => file.includes('quarantine/') && !file.endsWith('/')));
});

test('verify --repair with the upstream unreachable moves bad files to quarantine and exits 1', async (t) => {
	const mirror = await mirrorOf(t, ['9.1.3']);
	const corrupted = path.join(mirror.dir, tar('9.1.3'));
	await writeFile(corrupted, 'garbage');
	const cli = await runCli([
		'verify',
		'--dir',
		mirror.dir,
		'--trusted-key',
		mirror.keyPath,
		'--repair',
		'--upstream',
		'http://127.0.0.1:9',
		'--retries',
		'0',
	]);
	t.is(cli.code, 1);
	t.regex(
		cli.stdout,
		/quarantined: downloads\/beats\/elastic-agent\/elastic-agent-9\.1\.3-linux-x86_64\.tar\.gz/,
	);
	const files = await listFiles(mirror.dir);
	t.false(files.includes(tar('9.1.3')), 'the bad file is still served');
	t.false(files.includes(`${tar('9.1.3')}.sha512`));
	const quarantined = files.filter((file) => file.startsWith('.mirror/quarantine/'));
	t.is(quarantined.length, 3);
	t.is(
		await readFile(
			path.join(mirror.dir, quarantined.find((file) => file.endsWith('.tar.gz')) as string),
			'utf8',
		),
		'garbage',
	);
	t.is((await readManifest(layout(mirror.dir))).manifest.files[tar('9.1.3')], undefined);
	// The good file next to it is untouched.
	t.true(files.includes('downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.zip'));
});

test('prune plans are pure: --keep-latest per product and major.minor, --keep-versions, the sync selection', (t) => {
	const entry = (product: string, version: string, platform = 'linux-x86_64', fips = false) => ({
		path: `${product}${fips ? '-fips' : ''}-${version}-${platform}`,
		product,
		version,
		platform,
		fips,
		size: 10,
		sha512: 'x',
		publishedAt: '2026-01-01T00:00:00Z',
	});
	const entries = [
		entry('elastic-agent', '9.1.1'),
		entry('elastic-agent', '9.1.2'),
		entry('elastic-agent', '9.1.3'),
		entry('elastic-agent', '9.1.3', 'windows-x86_64'),
		entry('elastic-agent', '9.0.8'),
		entry('elastic-agent', '9.1.1', 'linux-x86_64', true),
		entry('fleet-server', '9.1.1'),
		entry('fleet-server', '9.1.2'),
	];
	const removed = (rules: Parameters<typeof planPrune>[1]) =>
		planPrune(entries, rules).map((action) => action.entry.path);
	t.deepEqual(removed({keepLatest: 2}), ['elastic-agent-9.1.1-linux-x86_64']);
	t.deepEqual(removed({keepLatest: 1}), [
		'elastic-agent-9.1.1-linux-x86_64',
		'elastic-agent-9.1.2-linux-x86_64',
		'fleet-server-9.1.1-linux-x86_64',
	]);
	t.deepEqual(removed({keepVersions: parseVersionSpecs(['>=9.1.2'], 'test')}), [
		'elastic-agent-9.0.8-linux-x86_64',
		'elastic-agent-9.1.1-linux-x86_64',
		'elastic-agent-fips-9.1.1-linux-x86_64',
		'fleet-server-9.1.1-linux-x86_64',
	]);
	// Keep rules together keep the union.
	t.deepEqual(removed({keepLatest: 1, keepVersions: parseVersionSpecs(['9.1.2'], 'test')}), [
		'elastic-agent-9.1.1-linux-x86_64',
		'fleet-server-9.1.1-linux-x86_64',
	]);
	t.deepEqual(removed({selection: {products: ['elastic-agent'], platforms: ['linux-x86_64'], fips: false}}), [
		'elastic-agent-9.1.3-windows-x86_64',
		'elastic-agent-fips-9.1.1-linux-x86_64',
		'fleet-server-9.1.1-linux-x86_64',
		'fleet-server-9.1.2-linux-x86_64',
	]);
});

test('prune: the dry run deletes nothing; --yes deletes exactly what it printed, with sidecars, never keys', async (t) => {
	const mirror = await mirrorOf(t, ['9.0.8', '9.1.2', '9.1.3']);
	const before = await listFiles(mirror.dir);
	const dry = await runCli(['prune', '--dir', mirror.dir, '--keep-latest', '1']);
	t.is(dry.code, 0, dry.stderr);
	t.deepEqual(await listFiles(mirror.dir), before);
	const planned = [...dry.stdout.matchAll(/^would delete (\S+) /gm)].map((match) => match[1]);
	t.deepEqual(planned, [
		tar('9.1.2'),
		'downloads/beats/elastic-agent/elastic-agent-9.1.2-windows-x86_64.zip',
	]);
	t.regex(dry.stdout, /2 artifacts \(40\.0 KiB\) would be deleted; run again with --yes/);

	const real = await runCli(['prune', '--dir', mirror.dir, '--keep-latest', '1', '--yes']);
	t.is(real.code, 0, real.stderr);
	t.deepEqual(
		[...real.stdout.matchAll(/^deleted (downloads\/\S+) /gm)].map((match) => match[1]),
		planned,
	);
	const after = await listFiles(mirror.dir);
	const gone = before.filter((file) => !after.includes(file));
	t.deepEqual(
		gone.filter((file) => !file.startsWith('.mirror/')).sort(),
		planned.flatMap((file) => [file, `${file}.asc`, `${file}.sha512`]).sort(),
	);
	t.true(after.includes('GPG-KEY-elasticsearch'));
	const manifest = (await readManifest(layout(mirror.dir))).manifest;
	t.deepEqual(
		Object.keys(manifest.files).sort(),
		[
			tar('9.0.8'),
			tar('9.1.3'),
			'downloads/beats/elastic-agent/elastic-agent-9.0.8-windows-x86_64.zip',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-windows-x86_64.zip',
		].sort(),
	);
	t.deepEqual((await prune({location: dirLocation(mirror.dir)}, {keepLatest: 1}, true)).actions, []);
});

test('prune, verify, import and export take the sync lock: exit 3 while a sync holds it', async (t) => {
	const mirror = await mirrorOf(t, ['9.1.3']);
	const lock = await acquireLock(layout(mirror.dir).lock);
	t.teardown(() => lock.release());
	for (const args of [
		['prune', '--keep-latest', '1', '--yes'],
		['verify', '--trusted-key', mirror.keyPath],
		['export', '--out', path.join(mirror.dir, '..', 'x.tar')],
	]) {
		const result = await runCli([...args, '--dir', mirror.dir]);
		t.is(result.code, 3, args[0]);
		t.regex(result.stderr, /lock/, args[0]);
	}

	t.is((await runCli(['prune', '--dir', mirror.dir])).code, 2);
});
