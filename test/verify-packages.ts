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
				throw new Error('no artifact should be fetched');
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

test('verify --repair moves bad package versions out and unlists them; sync fetches them again', async (t) => {
	const m = await mirror(t);
	await writeFile(m.file(zip('1.1.0')), 'not a zip');
	const report = await verifyMirror(m.options(true));
	t.deepEqual(report.quarantinedPackages, [zip('1.1.0')]);
	t.deepEqual(report.repaired, []);
	t.truthy(report.quarantineDir);
	const {manifest} = await readManifest(layout(m.dir));
	t.deepEqual(Object.keys(manifest.packages).sort(), [zip('1.0.0'), zip('1.2.0'), zip('1.3.0')]);
	const files = await listFiles(m.dir);
	t.false(files.some((file) => file.startsWith('epr/nginx/nginx-1.1.0')));
	t.deepEqual(
		files.filter((file) => file.startsWith('.mirror/quarantine/')).map((file) => path.posix.basename(file)),
		['nginx-1.1.0.json', 'nginx-1.1.0.zip', 'nginx-1.1.0.zip.sig'],
	);
	t.deepEqual((await verifyMirror(m.options(false))).problems, []);

	await writeFile(m.file(zip('1.2.0')), 'not a zip either');
	const cli = await runCli(['verify', '--repair', '--dir', m.dir, '--trusted-key', m.keyPath]);
	t.is(cli.code, 1);
	t.regex(
		cli.stdout,
		/quarantined: epr\/nginx\/nginx-1\.2\.0\.zip with its signature and info \(moved to .*\); run sync to fetch it again/,
	);
});
