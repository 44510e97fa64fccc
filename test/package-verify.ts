/**
verifyPackage, the one rule order for a package version: the signature first, then
the zip's shape and manifest.yml, then the package info against the manifest. Zips
are built here with yazl, independently of the fake registry.
*/
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import YAML from 'yaml';
import yazl from 'yazl';
import {satisfiesConstraint} from '../src/packages/constraint.js';
import {verifyPackage} from '../src/packages/verify.js';
import {loadTrustedKeys, type TrustedKeys} from '../src/trust/keys.js';
import {openZipFile, readEntry} from '../src/zip.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {tempDir} from './helpers/temp.js';

let key: TestKey;
let intruder: TestKey;
test.before(async () => {
	[key, intruder] = await Promise.all([createTestKey(), createTestKey('Intruder')]);
});

/** A zip of `files` (name -> content), as yazl writes it. */
async function zipOf(files: Record<string, string>): Promise<Buffer> {
	const zip = new yazl.ZipFile();
	for (const [name, content] of Object.entries(files)) {
		zip.addBuffer(Buffer.from(content), name);
	}

	zip.end();
	const chunks: Buffer[] = [];
	for await (const chunk of zip.outputStream) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

const manifest = {
	format_version: '3.0.0',
	name: 'nginx',
	title: 'Nginx',
	version: '1.2.3',
	type: 'integration',
	conditions: {kibana: {version: '^8.13.0 || ^9.0.0'}},
};

const info = {
	name: 'nginx',
	title: 'Nginx',
	version: '1.2.3',
	type: 'integration',
	conditions: {kibana: {version: '^8.13.0 || ^9.0.0'}},
	format_version: '3.0.0',
};

type Case = {
	files?: Record<string, string>;
	info?: unknown;
	signer?: TestKey;
	/** Sign these bytes instead of the zip. */
	signOther?: boolean;
	/** The search entry served back for this version. */
	search?: Record<string, unknown>;
};

async function check(t: Parameters<typeof tempDir>[0], trusted: TrustedKeys, options: Case = {}) {
	const dir = await tempDir(t);
	const zip = await zipOf(
		options.files ?? {
			'nginx-1.2.3/manifest.yml': YAML.stringify(manifest),
			'nginx-1.2.3/docs/README.md': '# Nginx\n',
		},
	);
	const zipFile = path.join(dir, 'nginx-1.2.3.zip');
	await writeFile(zipFile, zip);
	const signature = await (options.signer ?? key).sign(options.signOther ? Buffer.from('other') : zip);
	return verifyPackage(
		{
			name: 'nginx',
			version: '1.2.3',
			zipFile,
			signature,
			info: Buffer.from(
				typeof options.info === 'string' ? options.info : JSON.stringify(options.info ?? info),
			),
			search: options.search,
		},
		trusted,
	);
}

test('a signed zip with one top folder, its manifest and agreeing info verifies', async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	const facts = await check(t, trusted);
	t.is(facts.formatVersion, '3.0.0');
	t.regex(facts.sha512, /^[\da-f]{128}$/);
	t.is(facts.info.title, 'Nginx');
});

test('signatures: by an untrusted key, or over other bytes, fail with ERR_SIGNATURE naming the .zip.sig', async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	const untrusted = await t.throwsAsync(check(t, trusted, {signer: intruder}));
	t.is((untrusted as {code?: string}).code, 'ERR_SIGNATURE');
	t.regex(
		untrusted?.message ?? '',
		/nginx-1\.2\.3\.zip\.sig is signed by key \w+, which is not a trusted key/,
	);
	const other = await t.throwsAsync(check(t, trusted, {signOther: true}));
	t.is((other as {code?: string}).code, 'ERR_SIGNATURE');
	t.regex(other?.message ?? '', /bad signature on nginx-1\.2\.3\.zip/);
});

test('the zip: one top folder, manifest.yml present and naming the same package and version, no unsafe paths', async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	const good = YAML.stringify(manifest);
	const cases: Array<[Record<string, string>, RegExp]> = [
		[
			{'nginx-1.2.3/manifest.yml': good, 'other/file.txt': 'x'},
			/holds other\/file\.txt outside its one top folder/,
		],
		[{'nginx-1.2.3/docs/README.md': 'x'}, /has no nginx-1\.2\.3\/manifest\.yml/],
		[
			{'nginx-1.2.3/manifest.yml': YAML.stringify({...manifest, version: '1.2.4'})},
			/names version 1\.2\.4, not 1\.2\.3/,
		],
		[
			{'nginx-1.2.3/manifest.yml': YAML.stringify({...manifest, name: 'apache'})},
			/names name apache, not nginx/,
		],
		[{'nginx-1.2.3/manifest.yml': 'a: [b'}, /manifest\.yml is not YAML/],
	];
	for (const [files, message] of cases) {
		const error = await t.throwsAsync(check(t, trusted, {files}));
		t.is((error as {code?: string}).code, 'ERR_PACKAGE', message.source);
		t.regex(error?.message ?? '', message);
		t.false(error?.message.includes('\n'));
	}
});

test('a zip slip path (..) is refused before anything reads it', async (t) => {
	const dir = await tempDir(t);
	const zip = await zipOf({'nginx-1.2.3/manifest.yml': YAML.stringify(manifest)});
	// yazl refuses to write "..", so the name is patched in place: same length, both headers.
	const patched = Buffer.from(
		zip.toString('latin1').replaceAll('nginx-1.2.3/manifest.yml', 'nginx-1.2.3/../nifest.yml'),
		'latin1',
	);
	const file = path.join(dir, 'slip.zip');
	await writeFile(file, patched);
	const error = await t.throwsAsync(openZipFile(file, 'slip.zip'));
	t.is((error as {code?: string}).code, 'ERR_PACKAGE');
	t.regex(error?.message ?? '', /slip\.zip/);
});

test('the package info must agree with manifest.yml: name, version, type, title, format_version, Kibana condition', async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	for (const [change, field] of [
		[{version: '1.2.4'}, 'version'],
		[{title: 'NGINX'}, 'title'],
		[{type: 'input'}, 'type'],
		[{format_version: '2.0.0'}, 'format_version'],
		[{conditions: {kibana: {version: '^9.0.0'}}}, 'conditions.kibana.version'],
	] as const) {
		const error = await t.throwsAsync(check(t, trusted, {info: {...info, ...change}}));
		t.is((error as {code?: string}).code, 'ERR_PACKAGE');
		t.regex(error?.message ?? '', new RegExp(`says ${field.replaceAll('.', '\\.')} `));
	}

	const notJson = await t.throwsAsync(check(t, trusted, {info: '{'}));
	t.regex(notJson?.message ?? '', /package info of nginx-1\.2\.3\.zip is not/);
});

test('a manifest may write conditions with dotted keys, as the registry reads them', async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	const dotted = {...manifest, conditions: {'kibana.version': '^8.13.0 || ^9.0.0'}};
	const facts = await check(t, trusted, {files: {'nginx-1.2.3/manifest.yml': YAML.stringify(dotted)}});
	t.is(facts.formatVersion, '3.0.0');
	const error = await t.throwsAsync(
		check(t, trusted, {
			files: {
				'nginx-1.2.3/manifest.yml': YAML.stringify({...manifest, conditions: {'kibana.version': '^9.1.0'}}),
			},
		}),
	);
	t.regex(error?.message ?? '', /conditions\.kibana\.version/);
});

test('zip entries are read without unpacking: names, sizes and bytes', async (t) => {
	const dir = await tempDir(t);
	const file = path.join(dir, 'p.zip');
	await writeFile(
		file,
		await zipOf({'p-1.0.0/docs/README.md': '# Hello\n', 'p-1.0.0/img/icon.svg': '<svg/>'}),
	);
	const zip = await openZipFile(file, 'p.zip');
	try {
		t.deepEqual([...zip.entries.keys()].sort(), ['p-1.0.0/docs/README.md', 'p-1.0.0/img/icon.svg']);
		const readme = zip.entries.get('p-1.0.0/docs/README.md');
		t.is(readme?.size, 8);
		t.is((await readEntry(zip, readme as NonNullable<typeof readme>)).toString(), '# Hello\n');
	} finally {
		zip.close();
	}

	const notZip = path.join(dir, 'not.zip');
	await writeFile(notZip, '<html>error page</html>');
	const error = await t.throwsAsync(openZipFile(notZip, 'not.zip'));
	t.regex(error?.message ?? '', /not\.zip is not a readable zip/);
});

test('Masterminds constraints: ||, commas and spaces as AND, carets, tildes, x-ranges, hyphens', (t) => {
	const table: Array<[string, string, boolean]> = [
		['8.15.0', '^8.13.0 || ^9.0.0', true],
		['9.2.1', '^8.13.0 || ^9.0.0', true],
		['8.12.9', '^8.13.0 || ^9.0.0', false],
		['8.15.0', '>=8.10.0, <9.0.0', true],
		['9.0.0', '>=8.10.0, <9.0.0', false],
		['8.15.0', '>=8.10.0 <9.0.0', true],
		['1.2.9', '~1.2.0', true],
		['1.3.0', '~1.2.0', false],
		['1.9.0', '1.x', true],
		['1.4.0', '1.2 - 1.4.5', true],
		['7.17.0', '>=7.16.0', true],
		['1.0.0', 'not a range', false],
	];
	for (const [version, constraint, expected] of table) {
		t.is(satisfiesConstraint(version, constraint), expected, `${version} ${constraint}`);
	}
});

test("only the zip is signed: the info must point at this version's own files, and the search entry say what the info says", async (t) => {
	const trusted = await loadTrustedKeys([await key.writePublic(await tempDir(t))]);
	const paths = {
		download: '/epr/nginx/nginx-1.2.3.zip',
		signature_path: '/epr/nginx/nginx-1.2.3.zip.sig',
		path: '/package/nginx/1.2.3',
	};
	const full = {...info, ...paths, categories: ['web'], policy_templates: [{name: 'nginx', inputs: []}]};
	const entry = {
		name: 'nginx',
		title: 'Nginx',
		version: '1.2.3',
		type: 'integration',
		...paths,
		policy_templates: [{name: 'nginx'}],
		conditions: info.conditions,
		categories: ['web'],
	};
	await t.notThrowsAsync(check(t, trusted, {info: full, search: entry}));

	// An info that sends clients to other bytes than the checked zip (another version, another host).
	for (const [field, value] of [
		['download', '/epr/nginx/nginx-1.0.0.zip'],
		['download', '@evil.example/x.zip'],
		['signature_path', 'http://evil.example/x.sig'],
		['path', '/package/nginx/1.0.0'],
	] as const) {
		const error = await t.throwsAsync(check(t, trusted, {info: {...full, [field]: value}}));
		t.is((error as {code?: string}).code, 'ERR_PACKAGE');
		t.regex(error?.message ?? '', new RegExp(`says ${field} .*not this version's`));
	}

	// A search entry that lies about what Kibana filters and shows on.
	for (const change of [
		{conditions: {kibana: {version: '^7.0.0'}}},
		{title: 'LIES'},
		{download: '@evil.example/x.zip'},
		{policy_templates: [{name: 'other'}]},
		{release: 'ga'},
	]) {
		const error = await t.throwsAsync(check(t, trusted, {info: full, search: {...entry, ...change}}));
		t.is((error as {code?: string}).code, 'ERR_PACKAGE', JSON.stringify(change));
		t.regex(error?.message ?? '', /the search entry of nginx-1\.2\.3\.zip/);
	}
});
