/**
verify and verify --repair on Elastic Defend protections in a mirror directory:
manifest zips and artifacts against the manifest (size, sha512), manifests parsed,
artifacts against their encoded and decoded digests, unknown files under
downloads/endpoint/; on repair, bad files quarantined with the manifests naming
them (no served manifest names a missing file), then the affected versions fetched
again through the refetch hook, here a stand-in publishing from the fake host.
*/
import {createHash} from 'node:crypto';
import {readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {loadVerifyConfig} from '../src/config/index.js';
import {type VerifyOptions, verifyMirror} from '../src/maintain/verify.js';
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
import {listFiles, tempDir} from './helpers/temp.js';

const good = ['8.19.3', '9.0.7', '9.1.3'];
const zipOf = (version: string) => `downloads/endpoint/manifest/artifacts-${version}.zip`;
const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

type Mirror = {dir: string; upstream: FakeSecurityHost; file: (relative: string) => string};

async function mirror(t: ExecutionContext): Promise<Mirror> {
	const upstream = await startFakeSecurityHost({
		versions: standardDefendVersions.filter((version) => good.includes(version.version)),
	});
	t.teardown(() => upstream.close());
	const dir = await tempDir(t);
	await publishDefendVersions(dirLocation(dir), upstream, good);
	return {dir, upstream, file: (relative) => path.join(dir, relative)};
}

/** Verify's options with `refetch` standing in for the sync. */
function options(m: Mirror, repair: boolean, refetch: VerifyOptions['refetch']): VerifyOptions {
	const config = loadVerifyConfig({flags: {dir: m.dir, repair} as never, env: {}, cwd: m.dir});
	return {...config, refetch};
}

const noFetch: VerifyOptions['refetch'] = async () => {
	throw new Error('nothing should be fetched');
};

/** Every manifest the mirror lists names only artifacts it lists and holds; resolves with the listed versions. */
async function consistent(t: ExecutionContext, dir: string): Promise<string[]> {
	const {manifest} = await readManifest(layout(dir));
	for (const entry of Object.values(manifest.defend.versions)) {
		t.truthy(
			await stat(path.join(dir, entry.path)).catch(() => undefined),
			`${entry.path} is listed but gone`,
		);
		for (const artifact of entry.artifacts) {
			t.truthy(manifest.defend.artifacts[artifact], `${entry.version} names unlisted ${artifact}`);
			t.truthy(
				await stat(path.join(dir, artifact)).catch(() => undefined),
				`${entry.version} names missing ${artifact}`,
			);
		}
	}

	return Object.keys(manifest.defend.versions).sort();
}

/** Damage three files: the model 9.0.7 and 9.1.3 share, 8.19.3's blocklist (manifest made to agree), and add a stray file. */
async function damage(m: Mirror): Promise<{model: string; blocklist: string}> {
	const model = m.upstream.filesOf('9.1.3').find((file) => file.includes('model')) as string;
	const bytes = await readFile(m.file(model));
	bytes[100] = (bytes[100] ?? 0) ^ 0xff;
	await writeFile(m.file(model), bytes);

	const blocklist = m.upstream.filesOf('8.19.3').find((file) => file.includes('blocklist')) as string;
	const other = Buffer.from('x\u009c not what the manifest names');
	await writeFile(m.file(blocklist), other);
	const manifest = JSON.parse(await readFile(layout(m.dir).manifest, 'utf8')) as Manifest;
	const entry = manifest.defend.artifacts[blocklist] as {size: number; sha512: string};
	entry.size = other.length;
	entry.sha512 = sha512(other);
	await writeFile(layout(m.dir).manifest, JSON.stringify(manifest));

	await writeFile(m.file('downloads/endpoint/notes.txt'), 'hello');
	return {model, blocklist};
}

test('a clean Defend mirror verifies; damage is named per file, unknown files too', async (t) => {
	const m = await mirror(t);
	const clean = await verifyMirror(options(m, false, noFetch));
	const {manifest} = await readManifest(layout(m.dir));
	const files = 3 + Object.keys(manifest.defend.artifacts).length;
	t.is(clean.checkedDefend, files);
	t.is(clean.checked, files);
	t.deepEqual(clean.problems, []);

	const {model, blocklist} = await damage(m);
	await writeFile(m.file(zipOf('9.0.7')), 'not a zip');
	const found = await verifyMirror(options(m, false, noFetch));
	const byPath = new Map(found.problems.map((problem) => [problem.path, problem.problem]));
	t.is(byPath.get(model), 'sha512 differs from the manifest (the file changed after it was published)');
	t.regex(byPath.get(blocklist) ?? '', /encoded_sha256/);
	t.regex(byPath.get(zipOf('9.0.7')) ?? '', /size is 9, the manifest says/);
	t.regex(
		byPath.get('downloads/endpoint/notes.txt') ?? '',
		/^unknown file, not in the manifest, yet served: remove it by hand \(verify --repair leaves it\)$/,
	);
	// The manifest was made to agree with the new bytes: 8.19.3's manifest now disagrees with it.
	t.is(byPath.get(zipOf('8.19.3')), `names ${blocklist} with other digests than the mirror lists for it`);
	t.is(found.problems.length, 5);

	const cli = await runCli(['verify', '--dir', m.dir]);
	t.is(cli.code, 1);
	t.regex(cli.stdout, new RegExp(`^bad: ${model}: sha512 differs`, 'm'));
	t.regex(cli.stdout, new RegExp(`^verified 0 files and ${files} Defend files: 5 problems$`, 'm'));
});

test('a manifest naming an artifact the mirror does not list is a problem', async (t) => {
	const m = await mirror(t);
	const manifest = JSON.parse(await readFile(layout(m.dir).manifest, 'utf8')) as Manifest;
	const gone = m.upstream.filesOf('8.19.3').find((file) => file.includes('windows')) as string;
	delete manifest.defend.artifacts[gone];
	await writeFile(layout(m.dir).manifest, JSON.stringify(manifest));
	const found = await verifyMirror(options(m, false, noFetch));
	const byPath = new Map(found.problems.map((problem) => [problem.path, problem.problem]));
	t.is(byPath.get(zipOf('8.19.3')), `names ${gone}, which the mirror does not list`);
	t.regex(byPath.get(gone) ?? '', /^unknown file/);
});

test('--repair quarantines bad files with the manifests naming them, then fetches the affected versions again', async (t) => {
	const m = await mirror(t);
	const {model, blocklist} = await damage(m);
	const asked: string[][] = [];
	const report = await verifyMirror(
		options(m, true, async (refs, packages, emit, defendVersions) => {
			t.deepEqual([refs.length, packages.length], [0, 0]);
			asked.push([...defendVersions]);
			// Between quarantine and refetch a reader finds no manifest naming a missing file.
			t.deepEqual(await consistent(t, m.dir), []);
			await publishDefendVersions(dirLocation(m.dir), m.upstream, defendVersions);
			for (const version of defendVersions) {
				for (const file of m.upstream.filesOf(version)) {
					emit({type: 'published', path: file} as never);
				}
			}
		}),
	);
	t.deepEqual(asked, [good]);
	t.deepEqual([...report.repaired].sort(), [blocklist, model, ...good.map(zipOf)].sort());
	t.deepEqual(report.quarantinedDefend, []);
	t.is(report.quarantineDir, undefined);
	t.deepEqual(await consistent(t, m.dir), good);
	for (const file of [model, blocklist]) {
		t.true((await readFile(m.file(file))).equals(m.upstream.file(file) as Buffer));
	}

	t.false((await listFiles(m.dir)).some((file) => file.startsWith('.mirror/quarantine/')));
	const after = await verifyMirror(options(m, false, noFetch));
	t.deepEqual(
		after.problems.map((problem) => problem.path),
		['downloads/endpoint/notes.txt'],
		'the unknown file is left for a person',
	);
});

test('--repair that cannot fetch again leaves the bad files and their manifests quarantined; the rest stays served', async (t) => {
	const m = await mirror(t);
	const blocklist = m.upstream.filesOf('8.19.3').find((file) => file.includes('blocklist')) as string;
	const bytes = await readFile(m.file(blocklist));
	bytes[2] = (bytes[2] ?? 0) ^ 0xff;
	await writeFile(m.file(blocklist), bytes);
	const report = await verifyMirror(
		options(m, true, async (_refs, _packages, _emit, defendVersions) => {
			t.deepEqual(defendVersions, ['8.19.3']);
			throw new Error('upstream unreachable');
		}),
	);
	t.deepEqual(report.quarantinedDefend, [blocklist, zipOf('8.19.3')].sort());
	t.truthy(report.problems.find((problem) => problem.path === '(repair)'));
	t.deepEqual(await consistent(t, m.dir), ['9.0.7', '9.1.3']);
	const quarantined = (await listFiles(m.dir)).filter((file) => file.startsWith('.mirror/quarantine/'));
	t.deepEqual(
		quarantined.map((file) => file.split('/').slice(3).join('/')).sort(),
		[blocklist, zipOf('8.19.3')].sort(),
	);
	// The artifacts 8.19.3 alone named stay until prune; the rest verifies.
	const after = await verifyMirror(options(m, false, noFetch));
	t.deepEqual(after.problems, []);
});

test('a listing that disagrees with what the manifest zip names is a problem (prune relies on it)', async (t) => {
	const m = await mirror(t);
	const manifest = JSON.parse(await readFile(layout(m.dir).manifest, 'utf8')) as Manifest;
	const entry = manifest.defend.versions['9.0.7'] as unknown as {artifacts: string[]};
	entry.artifacts = entry.artifacts.slice(1);
	await writeFile(layout(m.dir).manifest, JSON.stringify(manifest));
	const found = await verifyMirror(options(m, false, noFetch));
	t.deepEqual(found.problems, [
		{path: zipOf('9.0.7'), problem: 'the manifest lists other artifacts for it than its manifest.json names'},
	]);
});
