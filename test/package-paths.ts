/**
package-paths: the mirror's package versions as the flat folder Elastic's registry
loads (`<n>-<v>.zip` beside `<n>-<v>.zip.sig`), checked against the manifest while
copied, atomic per file, and the config.yml lines printed.
*/
import {readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {writePackagePaths} from '../src/packages/package-paths.js';
import {dirLocation} from '../src/store/location.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {
	type BuiltPackage,
	buildPackage,
	type MirrorablePackage,
	publishPackages,
} from './helpers/package-mirror.js';
import {runCli} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';

let key: TestKey;
let packages: BuiltPackage[];
test.before(async () => {
	key = await createTestKey();
	packages = await Promise.all([
		buildPackage(key, {name: 'nginx', version: '1.20.0'}),
		buildPackage(key, {name: 'nginx', version: '1.21.0'}),
		buildPackage(key, {name: 'system_audit', version: '0.3.0-beta1'}),
	]);
});

test('writes every zip and signature flat, byte for byte, and prints the package_paths lines; a re-run writes nothing', async (t) => {
	const dir = await tempDir(t);
	await publishPackages(dirLocation(dir), packages);
	const out = path.join(await tempDir(t), 'packages');
	const cli = await runCli(['package-paths', '--dir', dir, '--out', out]);
	t.is(cli.code, 0, cli.stderr);
	t.regex(cli.stdout, /^3 package versions in .*: 6 files written \(.*\), 0 already there$/m);
	t.true(cli.stdout.includes(`package_paths:\n  - ${out}\n`));
	t.deepEqual((await readdir(out)).sort(), [
		'nginx-1.20.0.zip',
		'nginx-1.20.0.zip.sig',
		'nginx-1.21.0.zip',
		'nginx-1.21.0.zip.sig',
		'system_audit-0.3.0-beta1.zip',
		'system_audit-0.3.0-beta1.zip.sig',
	]);
	for (const pkg of packages) {
		t.true((await readFile(path.join(out, `${pkg.name}-${pkg.version}.zip`))).equals(pkg.zip));
		t.is(await readFile(path.join(out, `${pkg.name}-${pkg.version}.zip.sig`), 'utf8'), pkg.signature);
	}

	const again = await writePackagePaths({location: dirLocation(dir), out});
	t.like(again, {versions: 3, written: 0, present: 6, bytes: 0});
});

test('a zip that changed in the mirror is refused and leaves no file behind; files the mirror no longer holds are named', async (t) => {
	const dir = await tempDir(t);
	await publishPackages(dirLocation(dir), packages.slice(0, 2));
	const out = await tempDir(t);
	await writeFile(path.join(out, 'nginx-1.19.0.zip'), 'old');
	await writeFile(path.join(out, 'README.txt'), 'mine');
	const zip = path.join(dir, 'epr/nginx/nginx-1.21.0.zip');
	const bytes = await readFile(zip);
	bytes.writeUInt8((bytes.readUInt8(20) + 1) % 256, 20);
	await writeFile(zip, bytes);

	const cli = await runCli(['package-paths', '--dir', dir, '--out', out]);
	t.is(cli.code, 1);
	t.regex(
		cli.stderr,
		/^error: epr\/nginx\/nginx-1\.21\.0\.zip in .* is not what the manifest records .*; run verify\n$/,
	);
	t.deepEqual((await readdir(out)).sort(), [
		'README.txt',
		'nginx-1.19.0.zip',
		'nginx-1.20.0.zip',
		'nginx-1.20.0.zip.sig',
		'nginx-1.21.0.zip.sig',
	]);

	await writeFile(zip, (packages[1] as MirrorablePackage).zip);
	const warnings: string[] = [];
	const done = await writePackagePaths({
		location: dirLocation(dir),
		out,
		onWarning: (message) => warnings.push(message),
	});
	t.like(done, {written: 1, present: 3});
	t.deepEqual(warnings, [
		`${out} also holds nginx-1.19.0.zip, which the mirror no longer holds; Elastic's registry still serves them: remove them by hand`,
	]);
	t.is(await readFile(path.join(out, 'README.txt'), 'utf8'), 'mine');

	const usage = await runCli(['package-paths', '--dir', dir]);
	t.is(usage.code, 2);
	t.regex(usage.stderr, /no --out given/);
});
