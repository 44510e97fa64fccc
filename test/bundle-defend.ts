/**
Elastic Defend protections across the air gap: export carries manifest zips and
artifacts with their entries, import checks every artifact (encoded and inflated
digests) and every manifest before publishing anything, `--defend-artifacts` picks
versions, and `--since` carries only the manifests and artifacts published after
it, which a mirror holding the older ones imports.
*/
import {createHash} from 'node:crypto';
import {readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {loadExportConfig} from '../src/config/index.js';
import {BundleError} from '../src/errors.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {type Manifest, readManifest} from '../src/store/manifest.js';
import {publishDefendVersions} from './helpers/defend-store.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';
import {runCli} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';

const good = ['8.19.3', '9.0.7', '9.1.3'];

async function host(t: ExecutionContext): Promise<FakeSecurityHost> {
	const started = await startFakeSecurityHost({
		versions: standardDefendVersions.filter((version) => good.includes(version.version)),
	});
	t.teardown(() => started.close());
	return started;
}

/** A mirror directory holding the Defend protections of `versions` as `from` serves them. */
async function defendMirror(t: ExecutionContext, from: FakeSecurityHost, versions = good): Promise<string> {
	const dir = await tempDir(t);
	await publishDefendVersions(dirLocation(dir), from, versions);
	return dir;
}

/** The Defend section without the times each mirror stamps itself. */
function defendEntries(manifest: Manifest) {
	const strip = <T extends {publishedAt: string}>(record: Record<string, T>) =>
		Object.fromEntries(Object.entries(record).map(([key, {publishedAt: _, ...rest}]) => [key, rest]));
	return {versions: strip(manifest.defend.versions), artifacts: strip(manifest.defend.artifacts)};
}

const importInto = (dir: string, file: string) =>
	importBundle({location: dirLocation(dir), input: concatParts([file]), trustedKeyPaths: []});

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

test('export then import gives byte-identical Defend files and the same entries; again, all present', async (t) => {
	const upstream = await host(t);
	const source = await defendMirror(t, upstream);
	const out = path.join(await tempDir(t), 'bundle.tar');
	const summary = await exportBundle({location: dirLocation(source), out, selection: {}});
	const named = new Set(good.flatMap((version) => upstream.filesOf(version).slice(1)));
	t.deepEqual(summary.defend, {versions: 3, artifacts: named.size});
	t.is(summary.files, 3 + named.size);

	const target = await tempDir(t);
	const first = await importInto(target, out);
	t.deepEqual(first.defend, {
		versions: {published: 3, present: 0},
		artifacts: {published: named.size, present: 0},
	});
	const tree = await treeContents(target);
	t.true(sameTree(await treeContents(source), tree));
	for (const version of good) {
		for (const file of upstream.filesOf(version)) {
			t.true(tree.get(file)?.equals(upstream.file(file) as Buffer), `${file} is not byte-identical`);
		}
	}

	const [from, to] = await Promise.all([readManifest(layout(source)), readManifest(layout(target))]);
	t.deepEqual(defendEntries(to.manifest), defendEntries(from.manifest));

	const again = await importInto(target, out);
	t.deepEqual(again.defend, {
		versions: {published: 0, present: 3},
		artifacts: {published: 0, present: named.size},
	});
	t.deepEqual(await readdir(layout(target).tmp), []);

	const cliOut = path.join(await tempDir(t), 'cli.tar');
	const exported = await runCli(['export', '--dir', source, '--out', cliOut]);
	t.is(exported.code, 0, exported.stderr);
	t.regex(
		exported.stdout,
		new RegExp(`^exported 0 artifacts, 3 Defend manifests and ${named.size} Defend artifacts`, 'm'),
	);
	const imported = await runCli(['import', '--dir', await tempDir(t), cliOut]);
	t.is(imported.code, 0, imported.stderr);
	t.regex(
		imported.stdout,
		new RegExp(
			`^imported Defend protections: 3 manifests published, 0 already present; ${named.size} artifacts published, 0 already present$`,
			'm',
		),
	);
});

test('--defend-artifacts picks versions against what the mirror holds; alone it leaves binaries and packages out', async (t) => {
	const upstream = await host(t);
	const source = await defendMirror(t, upstream);
	const dir = await tempDir(t);
	const exportWith = async (flags: Record<string, unknown>, name: string) => {
		const config = loadExportConfig({
			flags: {dir: source, out: path.join(dir, name), ...flags} as never,
			env: {},
			cwd: dir,
		});
		const warnings: string[] = [];
		const summary = await exportBundle({...config, onWarning: (message) => warnings.push(message)});
		const target = await tempDir(t);
		await importInto(target, path.join(dir, name));
		return {config, summary, warnings, files: [...(await treeContents(target)).keys()]};
	};

	const latest = await exportWith({'defend-artifacts': 'latest'}, 'latest.tar');
	t.false(latest.config.binaries);
	t.is(latest.config.packages, 'none');
	t.deepEqual(latest.files.sort(), upstream.filesOf('9.1.3').sort());

	const range = await exportWith({'defend-artifacts': '9.x, 8.19.3, 7.17.0'}, 'range.tar');
	t.is(range.summary.defend.versions, 3);
	t.deepEqual(range.warnings, ['--defend-artifacts: the mirror holds no Defend protections for 7.17.0']);

	// --packages alone leaves Defend out; --defend-artifacts none leaves it out of an export of everything.
	const packagesOnly = loadExportConfig({
		flags: {dir: source, out: 'x', packages: 'nginx'} as never,
		env: {},
		cwd: dir,
	});
	t.is(packagesOnly.defend, 'none');
	await t.throwsAsync(
		exportBundle({
			location: dirLocation(source),
			out: path.join(dir, 'none.tar'),
			selection: {},
			defend: 'none',
		}),
		{message: /matches no artifact, package version or Defend manifest/},
	);
	t.throws(
		() =>
			loadExportConfig({
				flags: {dir: source, out: 'x', 'defend-artifacts': '9.x.y.z'} as never,
				env: {},
				cwd: dir,
			}),
		{message: /invalid version "9\.x\.y\.z" in --defend-artifacts/},
	);
});

test('--since carries only the new manifest and new artifacts; a mirror holding the older ones imports it, an empty one refuses it', async (t) => {
	const upstream = await host(t);
	const source = await defendMirror(t, upstream, ['9.0.7', '9.1.3']);
	const dir = await tempDir(t);
	const full = path.join(dir, 'full.tar');
	await exportBundle({location: dirLocation(source), out: full, selection: {}});
	const target = await tempDir(t);
	await importInto(target, full);

	// Upstream's next manifest for 9.1.3: one new exception list, the rest unchanged.
	const before = new Set(upstream.filesOf('9.1.3'));
	const spec = standardDefendVersions.find((version) => version.version === '9.1.3');
	const updated = {
		...spec,
		version: '9.1.3',
		manifestVersion: '1.0.2440',
		artifacts: (spec?.artifacts ?? []).map((artifact) =>
			artifact.identifier === 'global-exceptionlist-macos'
				? {...artifact, content: JSON.stringify({entries: [{value: '/usr/bin/new'}]})}
				: artifact,
		),
	};
	await upstream.publish(updated);
	const fresh = upstream.filesOf('9.1.3').filter((file) => !before.has(file) || file.endsWith('.zip'));
	t.is(fresh.length, 2, 'the manifest and one new artifact');
	await publishDefendVersions(dirLocation(source), upstream, ['9.1.3']);

	const delta = path.join(dir, 'delta.tar');
	const summary = await exportBundle({
		location: dirLocation(source),
		out: delta,
		selection: {},
		since: 'last',
	});
	t.deepEqual(summary.defend, {versions: 1, artifacts: 1});
	t.deepEqual(summary.outputs, [delta]);

	const imported = await importInto(target, delta);
	t.deepEqual(imported.defend, {versions: {published: 1, present: 0}, artifacts: {published: 1, present: 0}});
	t.true(sameTree(await treeContents(source), await treeContents(target)));
	const {manifest} = await readManifest(layout(target));
	t.is(manifest.defend.versions['9.1.3']?.manifestVersion, '1.0.2440');
	for (const file of upstream.filesOf('9.1.3')) {
		t.true((await treeContents(target)).get(file)?.equals(upstream.file(file) as Buffer));
	}

	const empty = await tempDir(t);
	const error = await t.throwsAsync(importInto(empty, delta), {instanceOf: BundleError});
	t.regex(
		error?.message ?? '',
		/artifacts-9\.1\.3\.zip in the bundle names .* neither in the bundle nor in this mirror/,
	);
	t.deepEqual([...(await treeContents(empty)).keys()], []);
});

/** Export `source` after `spoil` changed a file and the manifest's facts to agree; import must refuse. */
async function refusedAfter(
	t: ExecutionContext,
	spoil: (dir: string, manifest: Manifest) => Promise<string>,
) {
	const upstream = await host(t);
	const target = await defendMirror(t, upstream, ['8.19.3']);
	const beforeTree = await treeContents(target);
	const beforeManifest = await readFile(layout(target).manifest, 'utf8');
	const source = await defendMirror(t, upstream, ['9.0.7', '9.1.3']);
	const manifest = JSON.parse(await readFile(layout(source).manifest, 'utf8')) as Manifest;
	const spoiled = await spoil(source, manifest);
	const data = await readFile(path.join(source, spoiled));
	const entry = (manifest.defend.artifacts[spoiled] ??
		Object.values(manifest.defend.versions).find((version) => version.path === spoiled)) as {
		size: number;
		sha512: string;
	};
	entry.size = data.length;
	entry.sha512 = sha512(data);
	await writeFile(layout(source).manifest, JSON.stringify(manifest));
	const out = path.join(await tempDir(t), 'bundle.tar');
	await exportBundle({location: dirLocation(source), out, selection: {}});
	const error = await t.throwsAsync(importInto(target, out), {instanceOf: BundleError});
	t.true(sameTree(beforeTree, await treeContents(target)), 'the target tree changed');
	t.is(await readFile(layout(target).manifest, 'utf8'), beforeManifest);
	t.deepEqual(await readdir(layout(target).tmp), []);
	const cli = await runCli(['import', '--dir', target, out]);
	t.is(cli.code, 1);
	return error?.message ?? '';
}

test('an artifact whose bytes do not match its digests is refused; nothing is published', async (t) => {
	let name = '';
	const message = await refusedAfter(t, async (dir, manifest) => {
		name = Object.keys(manifest.defend.artifacts).find((file) => file.includes('blocklist')) as string;
		const file = path.join(dir, name);
		const bytes = await readFile(file);
		bytes[3] = (bytes[3] ?? 0) ^ 0xff;
		await writeFile(file, bytes);
		return name;
	});
	t.true(message.startsWith(`${name} in the bundle: `), message);
	t.regex(message, /encoded_sha256/);
});

test('a manifest zip that is not a zip is refused; nothing is published', async (t) => {
	const message = await refusedAfter(t, async (dir) => {
		const name = 'downloads/endpoint/manifest/artifacts-9.1.3.zip';
		await writeFile(path.join(dir, name), 'not a zip at all');
		return name;
	});
	t.regex(message, /^downloads\/endpoint\/manifest\/artifacts-9\.1\.3\.zip in the bundle: /);
});

test('a flipped byte in a Defend artifact of the bundle is refused by the bundle manifest', async (t) => {
	const upstream = await host(t);
	const source = await defendMirror(t, upstream, ['9.1.3']);
	const out = path.join(await tempDir(t), 'bundle.tar');
	await exportBundle({location: dirLocation(source), out, selection: {}});
	const bytes = await readFile(out);
	const model = upstream.filesOf('9.1.3').find((file) => file.includes('model')) as string;
	const offset = bytes.indexOf((upstream.file(model) as Buffer).subarray(0, 64));
	t.true(offset > 0);
	bytes.writeUInt8((bytes.readUInt8(offset + 40) + 1) % 256, offset + 40);
	await writeFile(out, bytes);
	const target = await tempDir(t);
	const error = await t.throwsAsync(importInto(target, out), {instanceOf: BundleError});
	t.true(error?.message.startsWith(`${model}: the bytes do not match the bundle manifest`), error?.message);
	t.deepEqual([...(await treeContents(target)).keys()], []);
});

test('an older bundle imported after a newer one keeps the newer manifest, with a warning', async (t) => {
	const upstream = await host(t);
	const source = await defendMirror(t, upstream, ['9.1.3']);
	const dir = await tempDir(t);
	const old = path.join(dir, 'old.tar');
	await exportBundle({location: dirLocation(source), out: old, selection: {}});
	const spec = standardDefendVersions.find((version) => version.version === '9.1.3');
	await upstream.publish({
		version: '9.1.3',
		manifestVersion: '1.0.2440',
		artifacts: (spec?.artifacts ?? []).slice(1),
	});
	await publishDefendVersions(dirLocation(source), upstream, ['9.1.3']);
	const fresh = path.join(dir, 'new.tar');
	await exportBundle({location: dirLocation(source), out: fresh, selection: {}});

	const target = await tempDir(t);
	await importInto(target, fresh);
	const warnings: string[] = [];
	const late = await importBundle({
		location: dirLocation(target),
		input: concatParts([old]),
		trustedKeyPaths: [],
		onWarning: (message) => warnings.push(message),
	});
	t.deepEqual(late.defend?.versions, {published: 0, present: 1});
	t.deepEqual(warnings, [
		"downloads/endpoint/manifest/artifacts-9.1.3.zip: kept this mirror's manifest 1.0.2440, newer than the bundle's 1.0.2431",
	]);
	const {manifest} = await readManifest(layout(target));
	t.is(manifest.defend.versions['9.1.3']?.manifestVersion, '1.0.2440');
	const zip = 'downloads/endpoint/manifest/artifacts-9.1.3.zip';
	t.true((await readFile(path.join(target, zip))).equals(upstream.file(zip) as Buffer));
});
