import {execFileSync} from 'node:child_process';
import {readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {Readable, Transform} from 'node:stream';
import test, {type ExecutionContext} from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts, expandParts} from '../src/bundle/parts.js';
import {BundleError} from '../src/errors.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {readManifest} from '../src/store/manifest.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {cliCommand, runCli, runSync, syncFlags} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';
import {type WithUpstream, withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const platforms = ['linux-x86_64', 'windows-x86_64', 'deb-amd64'];

/** Sync `versions` from an upstream that publishes `upstreamVersions` (default: the same). */
async function syncedMirror(
	t: Parameters<typeof withUpstream>[0],
	versions: string[],
	upstreamVersions = versions,
): Promise<WithUpstream & {syncVersions: (list: string[]) => Promise<void>}> {
	const setup = await withUpstream(t, key, {versions: upstreamVersions, platforms, size: 48 * 1024});
	const syncVersions = async (list: string[]) => {
		const {summary} = await runSync(
			syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
				versions: list.join(','),
				platforms: platforms.join(','),
			}),
		);
		if (summary.result !== 'success') {
			throw new Error('setup sync failed');
		}
	};

	await syncVersions(versions);
	return {...setup, syncVersions};
}

const importFile = (dir: string, file: string | string[], keyPath: string) =>
	importBundle({
		location: dirLocation(dir),
		input: concatParts(Array.isArray(file) ? file : [file]),
		trustedKeyPaths: [keyPath],
	});

test('export then import into an empty mirror gives an identical tree; importing again is a no-op', async (t) => {
	const source = await syncedMirror(t, ['9.0.8', '9.1.3']);
	const out = path.join(await tempDir(t), 'bundle.tar');
	const summary = await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	t.is(summary.artifacts, 6);
	t.is(summary.files, 6 * 3 + 2);
	t.deepEqual(summary.outputs, [out]);

	const target = await tempDir(t);
	const first = await importFile(target, out, source.keyPath);
	t.deepEqual(first, {
		published: 6,
		present: 0,
		packages: {published: 0, present: 0},
		keys: 2,
		bytes: 6 * 48 * 1024,
	});
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
	const manifest = (await readManifest(layout(target))).manifest;
	t.is(Object.keys(manifest.files).length, 6);
	t.deepEqual(Object.keys(manifest.keys).sort(), ['GPG-KEY-elastic-agent', 'GPG-KEY-elasticsearch']);

	const again = await importFile(target, out, source.keyPath);
	t.deepEqual(again, {published: 0, present: 6, packages: {published: 0, present: 0}, keys: 0, bytes: 0});
	t.deepEqual(await readdir(layout(target).tmp), []);
});

test('--split-size writes numbered parts; import finds them from the first; a selection exports only what it names', async (t) => {
	const source = await syncedMirror(t, ['9.0.8', '9.1.3']);
	const dir = await tempDir(t);
	const out = path.join(dir, 'b.tar');
	const {parseVersionSpecs} = await import('../src/versions.js');
	const summary = await exportBundle({
		location: dirLocation(source.dir),
		out,
		splitSize: 64 * 1024,
		selection: {versions: parseVersionSpecs(['9.1.x'], 'test'), platforms: ['linux-x86_64', 'deb-amd64']},
	});
	t.is(summary.artifacts, 2);
	t.true(summary.outputs.length >= 2);
	t.deepEqual(await expandParts([`${out}.001`]), summary.outputs);
	for (const part of summary.outputs.slice(0, -1)) {
		t.is((await readFile(part)).length, 64 * 1024);
	}

	const target = await tempDir(t);
	const result = await importFile(target, await expandParts([`${out}.001`]), source.keyPath);
	t.is(result.published, 2);
	t.deepEqual(
		[...(await treeContents(target)).keys()].filter(
			(file) => !file.endsWith('.asc') && !file.endsWith('.sha512'),
		),
		[
			'GPG-KEY-elastic-agent',
			'GPG-KEY-elasticsearch',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-amd64.deb',
			'downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
		],
	);
});

test('--since exports only what was published after the date or the previous export', async (t) => {
	const source = await syncedMirror(t, ['9.1.2'], ['9.1.2', '9.1.3']);
	const dir = await tempDir(t);
	const full = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(dir, 'full.tar'),
		selection: {},
	});
	t.is(full.artifacts, 3);
	await t.throwsAsync(
		exportBundle({
			location: dirLocation(source.dir),
			out: path.join(dir, 'none.tar'),
			selection: {},
			since: 'last',
		}),
		{
			message: /nothing was published since/,
		},
	);
	t.deepEqual((await readdir(dir)).sort(), ['full.tar']);

	const beforeSecondSync = new Date();
	await source.syncVersions(['9.1.3']);
	const delta = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(dir, 'delta.tar'),
		selection: {},
		since: 'last',
	});
	t.is(delta.artifacts, 3);
	const byDate = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(dir, 'by-date.tar'),
		selection: {},
		since: beforeSecondSync,
	});
	t.is(byDate.artifacts, 3);

	// The delta applied on top of the full bundle gives the whole source tree.
	const target = await tempDir(t);
	await importFile(target, path.join(dir, 'full.tar'), source.keyPath);
	const applied = await importFile(target, path.join(dir, 'delta.tar'), source.keyPath);
	t.is(applied.published, 3);
	const files = [...(await treeContents(target)).keys()];
	t.true(files.includes('downloads/beats/elastic-agent/elastic-agent-9.1.3-amd64.deb'));
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
});

/** A target mirror that already holds 9.0.8, and a bundle of 9.1.3 to import into it. */
async function rejectionSetup(t: ExecutionContext) {
	const source = await syncedMirror(t, ['9.1.3'], ['9.0.8', '9.1.3']);
	const target = await tempDir(t);
	const old = await exportBundle({
		location: dirLocation(source.dir),
		out: path.join(await tempDir(t), 'old.tar'),
		selection: {},
	});
	await importFile(target, old.outputs[0] as string, source.keyPath);
	await source.syncVersions(['9.0.8']);
	const dir = await tempDir(t);
	const out = path.join(dir, 'bundle.tar');
	const {parseVersionSpecs} = await import('../src/versions.js');
	await exportBundle({
		location: dirLocation(source.dir),
		out,
		selection: {versions: parseVersionSpecs(['9.0.8'], 'test')},
	});
	const before = await treeContents(target);
	const unchanged = async () => {
		t.true(sameTree(before, await treeContents(target)), 'the target tree changed');
		t.deepEqual(await readdir(layout(target).tmp), [], 'staging files were left behind');
	};

	return {source, target, dir, out, bytes: await readFile(out), unchanged};
}

test('a bundle with one flipped byte is rejected naming the file; nothing changes', async (t) => {
	const {source, target, out, bytes, unchanged} = await rejectionSetup(t);
	const victim = 'downloads/beats/elastic-agent/elastic-agent-9.0.8-linux-x86_64.tar.gz';
	const content = await readFile(path.join(source.dir, victim));
	const offset = bytes.indexOf(content.subarray(0, 256));
	t.true(offset > 0);
	bytes.writeUInt8((bytes.readUInt8(offset + 1000) + 1) % 256, offset + 1000);
	await writeFile(out, bytes);
	const error = await t.throwsAsync(importFile(target, out, source.keyPath), {instanceOf: BundleError});
	t.regex(
		error?.message ?? '',
		new RegExp(`^${victim.replaceAll('.', '\\.')}: the bytes do not match the bundle manifest`),
	);
	await unchanged();
});

test('a truncated bundle is rejected; nothing changes', async (t) => {
	const {source, target, out, bytes, unchanged} = await rejectionSetup(t);
	for (const length of [Math.floor(bytes.length / 2), bytes.length - 2048, 700]) {
		await writeFile(out, bytes.subarray(0, length));
		const error = await t.throwsAsync(importFile(target, out, source.keyPath), {instanceOf: BundleError});
		t.regex(error?.message ?? '', /truncated|ended before/, String(length));
		await unchanged();
	}
});

test('a bundle whose artifact is signed by an unknown key is rejected; nothing changes', async (t) => {
	const {source, target, dir, unchanged} = await rejectionSetup(t);
	const victim = 'downloads/beats/elastic-agent/elastic-agent-9.0.8-windows-x86_64.zip';
	const stranger = await createTestKey('Someone Else');
	await writeFile(
		path.join(source.dir, `${victim}.asc`),
		await stranger.sign(await readFile(path.join(source.dir, victim))),
	);
	const out = path.join(dir, 'forged.tar');
	await exportBundle({location: dirLocation(source.dir), out, selection: {}});
	const error = await t.throwsAsync(importFile(target, out, source.keyPath));
	t.regex(
		error?.message ?? '',
		/elastic-agent-9\.0\.8-windows-x86_64\.zip\.asc is signed by key .*not a trusted key/,
	);
	await unchanged();
});

test('a missing part is named; a missing last part is caught as truncation; the CLI exits 1 with one line', async (t) => {
	const {source, target, dir, unchanged} = await rejectionSetup(t);
	const out = path.join(dir, 'parts.tar');
	const summary = await exportBundle({
		location: dirLocation(source.dir),
		out,
		selection: {},
		splitSize: 64 * 1024,
	});
	t.true(summary.outputs.length >= 3);
	const [first, second, ...rest] = summary.outputs as [string, string, ...string[]];
	await t.throwsAsync(expandParts([first, ...rest]), {message: /part 002 of the bundle is missing/});

	const withoutLast = summary.outputs.slice(0, -1);
	await t.throwsAsync(importFile(target, withoutLast, source.keyPath), {message: /truncated|ended before/});
	await unchanged();

	const {rename} = await import('node:fs/promises');
	await rename(second, `${second}.away`);
	const cli = await runCli(['import', '--dir', target, '--trusted-key', source.keyPath, first]);
	t.is(cli.code, 1);
	t.is(cli.stderr.trim(), 'error: part 002 of the bundle is missing (got parts.tar.003 where 002 should be)');
	await unchanged();
	await rename(`${second}.away`, second);

	const ok = await runCli(['import', '--dir', target, '--trusted-key', source.keyPath, first]);
	t.is(ok.code, 0, ok.stderr);
	t.regex(ok.stdout, /imported: 3 artifacts published \(144 KiB\), 3 already present/);
});

test('export and import through a pipe (- for stdout and stdin)', async (t) => {
	const source = await syncedMirror(t, ['9.1.3']);
	const target = await tempDir(t);
	const quote = (parts: readonly string[]) => parts.map((part) => `'${part}'`).join(' ');
	const output = execFileSync(
		'bash',
		[
			'-o',
			'pipefail',
			'-c',
			`${quote([...cliCommand, 'export', '--dir', source.dir, '--out', '-'])} | ${quote([...cliCommand, 'import', '--dir', target, '--trusted-key', source.keyPath, '-'])}`,
		],
		{encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']},
	);
	t.regex(output, /imported: 3 artifacts published/);
	t.true(sameTree(await treeContents(source.dir), await treeContents(target)));
	// A bundle on stdin goes through the same checks.
	const tampered = Readable.from([Buffer.from('not a tar at all'.repeat(64))]);
	await t.throwsAsync(
		importBundle({location: dirLocation(target), input: tampered, trustedKeyPaths: [source.keyPath]}),
		{
			instanceOf: BundleError,
		},
	);
});

test('a bundle entry larger than its manifest entry is refused before it is written; nothing changes', async (t) => {
	const {source, target, bytes, unchanged} = await rejectionSetup(t);
	const victim = 'downloads/beats/elastic-agent/elastic-agent-9.0.8-linux-x86_64.tar.gz';
	const big = 64 * 1024 * 1024;
	// The same bundle with the victim's entry replaced by 64 MiB (its manifest entry unchanged).
	const crafted = async (declare: number) => {
		const {default: tar} = await import('tar-stream');
		const pack = tar.pack();
		const extract = tar.extract();
		extract.on('entry', (header, stream, next) => {
			if (header.name !== victim) {
				stream.pipe(pack.entry(header, next));
				return;
			}

			stream.resume();
			const entry = pack.entry({...header, size: declare}, next);
			let left = declare;
			const zeros = Buffer.alloc(1024 * 1024);
			const pump = () => {
				while (left > 0) {
					const piece = zeros.subarray(0, Math.min(left, zeros.length));
					left -= piece.length;
					if (!entry.write(piece)) {
						entry.once('drain', pump);
						return;
					}
				}

				entry.end(Buffer.alloc(0));
			};

			pump();
		});
		extract.on('finish', () => pack.finalize());
		Readable.from([bytes]).pipe(extract);
		let consumed = 0;
		const input = pack.pipe(
			new Transform({
				transform(chunk: Buffer, _encoding, callback) {
					consumed += chunk.length;
					callback(null, chunk);
				},
			}),
		);
		return {input, consumed: () => consumed};
	};

	const bundle = await crafted(big);
	const error = await t.throwsAsync(
		importBundle({location: dirLocation(target), input: bundle.input, trustedKeyPaths: [source.keyPath]}),
		{instanceOf: BundleError},
	);
	t.regex(
		error?.message ?? '',
		new RegExp(`^${victim.replaceAll('.', '\\.')}: ${big} bytes in the bundle, its manifest says \\d+`),
	);
	t.false(error?.message.includes('\n'));
	t.true(
		bundle.consumed() < 16 * 1024 * 1024,
		`read ${bundle.consumed()} bytes of the bundle before refusing`,
	);
	await unchanged();
});
