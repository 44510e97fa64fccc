/**
Integration packages across the air gap: export carries package versions (zip,
signature, info and their manifest entries), import verifies each one as sync does
before publishing anything, and the export selection (--packages, --since) applies.
*/
import {readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {loadExportConfig} from '../src/config/index.js';
import {BundleError, PackageError, SignatureError} from '../src/errors.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {type PackageEntry, readManifest} from '../src/store/manifest.js';
import {parseStatus} from '../src/store/status.js';
import {standardPackages} from './helpers/fake-registry.js';
import {buildFakePackage} from './helpers/fake-registry-build.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {
	type BuiltPackage,
	buildPackage,
	type MirrorablePackage,
	publishPackages,
} from './helpers/package-mirror.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
let packages: BuiltPackage[];
test.before(async () => {
	key = await createTestKey();
	packages = await Promise.all([
		buildPackage(key, {name: 'nginx', version: '1.20.0'}),
		buildPackage(key, {
			name: 'nginx',
			version: '1.21.0',
			requires: {input: [{package: 'filestream', version: '^1.1.0'}]},
		}),
		buildPackage(key, {name: 'filestream', version: '1.1.2', type: 'input'}),
		buildPackage(key, {name: 'filestream', version: '1.0.0', type: 'input'}),
		buildPackage(key, {name: 'system', version: '2.0.0'}),
	]);
});

/** Entries without the publishing time, which each mirror stamps itself. */
function entries(manifest: {packages: Record<string, PackageEntry>}) {
	return Object.fromEntries(
		Object.entries(manifest.packages).map(([file, {publishedAt: _, ...entry}]) => [file, entry]),
	);
}

/** A mirror directory holding `held` package versions (and, with `binaries`, two synced artifacts). */
async function packageMirror(
	t: ExecutionContext,
	held: readonly MirrorablePackage[] = packages,
	{binaries = false} = {},
) {
	const keyDir = await tempDir(t, 'keys-');
	const keyPath = await key.writePublic(keyDir);
	let dir = await tempDir(t);
	if (binaries) {
		const setup = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64'], size: 4096});
		const {summary} = await runSync(
			syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
		);
		t.is(summary.result, 'success');
		dir = setup.dir;
	}

	await publishPackages(dirLocation(dir), held);
	return {dir, keyPath};
}

const importInto = (dir: string, file: string, keyPath: string) =>
	importBundle({location: dirLocation(dir), input: concatParts([file]), trustedKeyPaths: [keyPath]});

test('export then import gives the same package entries and byte-identical files; again, all present', async (t) => {
	const source = await packageMirror(t);
	const out = path.join(await tempDir(t), 'bundle.tar');
	const summary = await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	t.is(summary.artifacts, 0);
	t.is(summary.packages, 5);
	t.is(summary.files, 15);

	const target = await tempDir(t);
	const first = await importInto(target, out, source.keyPath);
	t.deepEqual(first.packages, {published: 5, present: 0});
	t.is(first.published, 0);
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
	const [from, to] = await Promise.all([readManifest(layout(source.dir)), readManifest(layout(target))]);
	t.deepEqual(entries(to.manifest), entries(from.manifest));
	t.is(Object.keys(to.manifest.packages).length, 5);

	const again = await importInto(target, out, source.keyPath);
	t.deepEqual(again.packages, {published: 0, present: 5});
	const status = parseStatus(await readFile(path.join(layout(target).state, 'status.json'), 'utf8'));
	t.deepEqual(
		status.lastRun?.counts.packages,
		{published: 0, present: 5, failed: 0},
		'the run record counts them',
	);
	t.deepEqual(status.history?.[1]?.counts.packages, {published: 5, present: 0, failed: 0});
	t.deepEqual(await readdir(layout(target).tmp), []);

	const cli = await runCli(['import', '--dir', await tempDir(t), '--trusted-key', source.keyPath, out]);
	t.is(cli.code, 0, cli.stderr);
	t.regex(
		cli.stdout,
		/^imported \(.* KiB\): 0 artifacts published, 0 already present, 0 keys updated; 5 package versions published, 0 already present$/m,
	);
});

test('--packages alone exports those packages and what they require, and no binaries; a binary flag brings them back', async (t) => {
	const source = await packageMirror(t, packages, {binaries: true});
	const dir = await tempDir(t);
	const exportWith = async (flags: Record<string, unknown>, name: string) => {
		const config = loadExportConfig({
			flags: {dir: source.dir, out: path.join(dir, name), ...flags} as never,
			env: {},
			cwd: dir,
		});
		const summary = await exportBundle(config);
		const target = await tempDir(t);
		await importInto(target, path.join(dir, name), source.keyPath);
		return {
			summary,
			files: [...(await treeContents(target)).keys()].filter(
				(file) => file.endsWith('.zip') || file.endsWith('.gz'),
			),
		};
	};

	const only = await exportWith({packages: 'nginx@1.21.0'}, 'pin.tar');
	t.is(only.summary.artifacts, 0);
	t.deepEqual(only.files, ['epr/filestream/filestream-1.1.2.zip', 'epr/nginx/nginx-1.21.0.zip']);

	const named = await exportWith({packages: 'nginx,system'}, 'names.tar');
	t.deepEqual(named.files, [
		'epr/filestream/filestream-1.1.2.zip',
		'epr/nginx/nginx-1.20.0.zip',
		'epr/nginx/nginx-1.21.0.zip',
		'epr/system/system-2.0.0.zip',
	]);

	const both = await exportWith({packages: 'system', platforms: 'linux-x86_64'}, 'both.tar');
	t.deepEqual(both.files, [
		'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
		'epr/system/system-2.0.0.zip',
	]);

	const binariesOnly = await exportWith({packages: 'none'}, 'none.tar');
	t.deepEqual(binariesOnly.files, ['downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz']);
	t.is(binariesOnly.summary.packages, 0);

	// --versions selects binaries only: every package version still travels.
	const versions = await exportWith({versions: '9.1.3'}, 'versions.tar');
	t.is(versions.summary.artifacts, 1);
	t.is(versions.summary.packages, 5);

	t.throws(
		() =>
			loadExportConfig({flags: {dir: source.dir, out: 'x', packages: 'Nginx'} as never, env: {}, cwd: dir}),
		{
			message: /invalid --packages "Nginx"/,
		},
	);
});

test('--since takes only package versions published after it', async (t) => {
	const source = await packageMirror(t, packages.slice(0, 2));
	const dir = await tempDir(t);
	const full = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(dir, 'full.tar'),
		selection: {},
	});
	t.is(full.packages, 2);
	await t.throwsAsync(
		exportBundle({
			location: dirLocation(source.dir),
			out: path.join(dir, 'none.tar'),
			selection: {},
			since: 'last',
		}),
		{message: /nothing was published since/},
	);
	await publishPackages(dirLocation(source.dir), packages.slice(2));
	const delta = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(dir, 'delta.tar'),
		selection: {},
		since: 'last',
	});
	t.is(delta.packages, 3);
	const target = await tempDir(t);
	await importInto(target, path.join(dir, 'full.tar'), source.keyPath);
	await importInto(target, path.join(dir, 'delta.tar'), source.keyPath);
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
});

/** A target holding one version, and a source whose bundle is spoiled by `spoil` before export. */
async function refused(
	t: ExecutionContext,
	spoil: (dir: string) => Promise<void>,
): Promise<{error: Error | undefined; target: string}> {
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	const target = await tempDir(t);
	await publishPackages(dirLocation(target), [packages[4] as MirrorablePackage]);
	const before = await treeContents(target);
	const beforeManifest = await readFile(layout(target).manifest, 'utf8');
	const source = await packageMirror(t, packages.slice(0, 4));
	await spoil(source.dir);
	const out = path.join(await tempDir(t), 'bundle.tar');
	await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	const error = await t.throwsAsync(importInto(target, out, keyPath));
	t.true(sameTree(before, await treeContents(target)), 'the target tree changed');
	t.is(await readFile(layout(target).manifest, 'utf8'), beforeManifest);
	t.deepEqual(await readdir(layout(target).tmp), []);
	const cli = await runCli(['import', '--dir', target, '--trusted-key', keyPath, out]);
	t.is(cli.code, 1);
	t.is(cli.stderr.split('\n').filter(Boolean).length, 1, cli.stderr);
	return {error, target};
}

test('a package signed by an unknown key is refused naming it; nothing changes', async (t) => {
	const stranger = await createTestKey('Someone Else');
	const {error} = await refused(t, async (dir) => {
		const zip = path.join(dir, 'epr/nginx/nginx-1.21.0.zip');
		const signature = await stranger.sign(await readFile(zip));
		await writeFile(`${zip}.sig`, signature);
		// The manifest must agree, or export refuses first: rewrite the entry's facts.
		const {createHash} = await import('node:crypto');
		const manifest = JSON.parse(await readFile(layout(dir).manifest, 'utf8'));
		manifest.packages['epr/nginx/nginx-1.21.0.zip'].signature = {
			size: Buffer.byteLength(signature),
			sha512: createHash('sha512').update(signature).digest('hex'),
		};
		await writeFile(layout(dir).manifest, JSON.stringify(manifest));
	});
	t.true(error instanceof SignatureError);
	t.regex(error?.message ?? '', /nginx-1\.21\.0\.zip/);
});

test('a package whose info disagrees with its manifest.yml is refused; nothing changes', async (t) => {
	const {error} = await refused(t, async (dir) => {
		const infoPath = path.join(dir, 'epr/filestream/filestream-1.1.2.json');
		const info = JSON.parse(await readFile(infoPath, 'utf8'));
		const changed = Buffer.from(JSON.stringify({...info, title: 'Something else'}));
		await writeFile(infoPath, changed);
		const {createHash} = await import('node:crypto');
		const manifest = JSON.parse(await readFile(layout(dir).manifest, 'utf8'));
		manifest.packages['epr/filestream/filestream-1.1.2.zip'].info = {
			size: changed.length,
			sha512: createHash('sha512').update(changed).digest('hex'),
		};
		await writeFile(layout(dir).manifest, JSON.stringify(manifest));
	});
	t.true(error instanceof PackageError);
	t.regex(error?.message ?? '', /filestream-1\.1\.2\.zip says title/);
});

test('a flipped byte in a package zip of the bundle is refused by the bundle manifest', async (t) => {
	const source = await packageMirror(t, packages.slice(0, 1));
	const out = path.join(await tempDir(t), 'bundle.tar');
	await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	const bytes = await readFile(out);
	const offset = bytes.indexOf((packages[0] as MirrorablePackage).zip.subarray(0, 64));
	t.true(offset > 0);
	bytes.writeUInt8((bytes.readUInt8(offset + 40) + 1) % 256, offset + 40);
	await writeFile(out, bytes);
	const target = await tempDir(t);
	const error = await t.throwsAsync(importInto(target, out, source.keyPath), {instanceOf: BundleError});
	t.regex(
		error?.message ?? '',
		/^epr\/nginx\/nginx-1\.20\.0\.zip: the bytes do not match the bundle manifest/,
	);
	t.deepEqual([...(await treeContents(target)).keys()], []);
});

test("the fake registry's standard packages travel whole; its tampered one is refused", async (t) => {
	const built = await Promise.all(standardPackages.map((spec) => buildFakePackage(spec, key)));
	const sound = built.filter((pkg) => pkg.spec.name !== 'tampered');
	t.is(sound.length, built.length - 1);
	const source = await packageMirror(t, sound);
	const out = path.join(await tempDir(t), 'bundle.tar');
	const summary = await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	t.is(summary.packages, sound.length);
	const target = await tempDir(t);
	const imported = await importInto(target, out, source.keyPath);
	t.deepEqual(imported.packages, {published: sound.length, present: 0});
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
	const [from, to] = await Promise.all([readManifest(layout(source.dir)), readManifest(layout(target))]);
	t.deepEqual(entries(to.manifest), entries(from.manifest));

	const withTampered = await packageMirror(t, built);
	const bad = path.join(await tempDir(t), 'tampered.tar');
	await exportBundle({location: dirLocation(withTampered.dir), out: bad, selection: {}});
	const empty = await tempDir(t);
	await t.throwsAsync(importInto(empty, bad, source.keyPath), {
		instanceOf: SignatureError,
		message: /tampered-1\.0\.0\.zip/,
	});
	t.deepEqual([...(await treeContents(empty)).keys()], []);
});
