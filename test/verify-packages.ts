/**
verify and verify --repair on package versions in a mirror directory: sizes and
sha512 of zip, signature and info against the manifest, verifyPackage at rest,
unknown files and links under epr/, quarantine on repair.
*/
import {createHash} from 'node:crypto';
import {readFile, rm, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {loadVerifyConfig} from '../src/config/index.js';
import {type VerifyOptions, verifyMirror} from '../src/maintain/verify.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {readManifest} from '../src/store/manifest.js';
import {startFakeRegistry} from './helpers/fake-registry.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {type BuiltPackage, buildPackage, publishPackages} from './helpers/package-mirror.js';
import {runCli} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';

let key: TestKey;
let packages: BuiltPackage[];
test.before(async () => {
	key = await createTestKey();
	packages = await Promise.all(
		['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((version) => buildPackage(key, {name: 'nginx', version})),
	);
});

const zip = (version: string) => `epr/nginx/nginx-${version}.zip`;

async function mirror(t: Parameters<typeof tempDir>[0]) {
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	await publishPackages(dirLocation(dir), packages);
	const options = (repair: boolean): VerifyOptions => {
		const config = loadVerifyConfig({
			flags: {dir, 'trusted-key': [keyPath], repair} as never,
			env: {},
			cwd: dir,
		});
		return {
			...config,
			refetch: async () => {
				throw new Error('nothing should be fetched');
			},
		};
	};
	return {dir, keyPath, options, file: (relative: string) => path.join(dir, relative)};
}

test('a clean mirror of package versions verifies; every kind of damage is named', async (t) => {
	const m = await mirror(t);
	const clean = await verifyMirror(m.options(false));
	t.is(clean.checked, 4);
	t.deepEqual(clean.problems, []);

	// 1.0.0: a flipped byte in the zip (same size).
	const bytes = await readFile(m.file(zip('1.0.0')));
	bytes.writeUInt8((bytes.readUInt8(30) + 1) % 256, 30);
	await writeFile(m.file(zip('1.0.0')), bytes);
	// 1.1.0: its info is gone.
	await rm(m.file('epr/nginx/nginx-1.1.0.json'));
	// 1.2.0: signed by a stranger, the manifest made to agree: only verifyPackage can tell.
	const stranger = await createTestKey('Someone Else');
	const signature = await stranger.sign(await readFile(m.file(zip('1.2.0'))));
	await writeFile(m.file(`${zip('1.2.0')}.sig`), signature);
	const manifest = JSON.parse(await readFile(layout(m.dir).manifest, 'utf8'));
	manifest.packages[zip('1.2.0')].signature = {
		size: Buffer.byteLength(signature),
		sha512: createHash('sha512').update(signature).digest('hex'),
	};
	await writeFile(layout(m.dir).manifest, JSON.stringify(manifest));
	// A file nobody published, and a link where 1.3.0's signature was.
	await writeFile(m.file('epr/nginx/notes.txt'), 'hello');
	await rm(m.file(`${zip('1.3.0')}.sig`));
	await symlink(m.file(`${zip('1.0.0')}.sig`), m.file(`${zip('1.3.0')}.sig`));

	const found = await verifyMirror(m.options(false));
	const byPath = new Map(found.problems.map((problem) => [problem.path, problem.problem]));
	t.is(byPath.get(zip('1.0.0')), 'sha512 differs from the manifest (the zip changed after it was published)');
	t.is(byPath.get(zip('1.1.0')), 'nginx-1.1.0.json is missing from the tree');
	t.regex(byPath.get(zip('1.2.0')) ?? '', /nginx-1\.2\.0\.zip\.sig is signed by key .*not a trusted key/);
	t.regex(byPath.get('epr/nginx/notes.txt') ?? '', /^unknown file, not in the manifest, yet served/);
	t.regex(
		byPath.get(`${zip('1.3.0')}.sig`) ?? '',
		/symbolic link.*verify --repair moves the package version out/,
	);
	// The link's target has the same bytes as 1.0.0's signature, not 1.3.0's: the version is bad too.
	t.regex(byPath.get(zip('1.3.0')) ?? '', /nginx-1\.3\.0\.zip\.sig: sha512 differs/);
	t.is(found.problems.length, 6);

	const cli = await runCli(['verify', '--dir', m.dir, '--trusted-key', m.keyPath]);
	t.is(cli.code, 1);
	t.regex(cli.stdout, /bad: epr\/nginx\/nginx-1\.0\.0\.zip: sha512 differs/);
});

test('verify --repair moves bad package versions out and unlists them; what the registry still has is fetched again', async (t) => {
	const registry = await startFakeRegistry({
		key,
		packages: ['1.0.0', '1.1.0', '1.2.0', '1.3.0'].map((version) => ({name: 'nginx', version})),
	});
	t.teardown(() => registry.close());
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	await publishPackages(dirLocation(dir), registry.packages);
	const flags = ['--dir', dir, '--trusted-key', keyPath, '--registry', registry.url];
	const original = await readFile(path.join(dir, zip('1.1.0')));

	// 1.1.0 is damaged and the registry has it: fetched again, the quarantined copy discarded.
	await writeFile(path.join(dir, zip('1.1.0')), 'not a zip');
	const repaired = await runCli(['verify', '--repair', ...flags]);
	t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
	t.regex(repaired.stdout, /fetched again: epr\/nginx\/nginx-1\.1\.0\.zip/);
	t.regex(repaired.stdout, /1 repaired, 0 quarantined/);
	t.deepEqual(await readFile(path.join(dir, zip('1.1.0'))), original);
	t.deepEqual(
		registry.requests.filter((request) => request.path.endsWith('.zip')).map((request) => request.path),
		['/epr/nginx/nginx-1.1.0.zip'],
		'only the damaged version is downloaded',
	);
	t.false((await listFiles(dir)).some((file) => file.startsWith('.mirror/quarantine/')));
	t.is((await runCli(['verify', ...flags])).code, 0);

	// 1.2.0 is damaged and the registry no longer has it: quarantined, unlisted, exit 1.
	registry.remove('nginx', '1.2.0');
	await writeFile(path.join(dir, zip('1.2.0')), 'not a zip either');
	const lost = await runCli(['verify', '--repair', ...flags]);
	t.is(lost.code, 1);
	t.regex(
		lost.stdout,
		/quarantined: epr\/nginx\/nginx-1\.2\.0\.zip with its signature and info \(could not fetch it again; moved to .*\)/,
	);
	const {manifest} = await readManifest(layout(dir));
	t.deepEqual(Object.keys(manifest.packages).sort(), [zip('1.0.0'), zip('1.1.0'), zip('1.3.0')]);
	t.deepEqual(
		(await listFiles(dir))
			.filter((file) => file.startsWith('.mirror/quarantine/'))
			.map((file) => path.posix.basename(file))
			.sort(),
		['nginx-1.2.0.json', 'nginx-1.2.0.zip', 'nginx-1.2.0.zip.sig'],
	);
	t.is((await runCli(['verify', ...flags])).code, 0, 'what is left verifies');
});
