/**
The Defend checks of src/defend: manifest.json rules (plain /downloads/ paths, digests,
sizes, algorithms) and an artifact's encoded and decoded sha256 and sizes, as
Endpoint checks them. Zips and artifacts are built here with node:zlib and yazl.
*/
import {createHash} from 'node:crypto';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {deflateSync} from 'node:zlib';
import test from 'ava';
import yazl from 'yazl';
import {
	type DefendArtifactRef,
	defendManifestPath,
	isPlainDownloadPath,
	parseDefendManifest,
	parseDefendManifestPath,
} from '../src/defend/catalog.js';
import {checkDefendArtifact, readDefendManifestZip} from '../src/defend/verify.js';
import {tempDir} from './helpers/temp.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** An artifact as the security host serves it, and its manifest entry. */
function artifact(
	content: string,
	url = `/downloads/endpoint/artifacts/x-v1/${sha256(Buffer.from(content))}`,
) {
	const decoded = Buffer.from(content);
	const encoded = deflateSync(decoded);
	return {
		encoded,
		entry: {
			relative_url: url,
			encryption_algorithm: 'none',
			compression_algorithm: 'zlib',
			decoded_sha256: sha256(decoded),
			decoded_size: decoded.length,
			encoded_sha256: sha256(encoded),
			encoded_size: encoded.length,
		},
	};
}

const manifestOf = (artifacts: Record<string, unknown>) =>
	JSON.stringify({manifest_version: '1.0.42', schema_version: 'v1', artifacts});

test('manifest paths: the version in and out of the tree path', (t) => {
	t.is(defendManifestPath('9.1.3'), 'downloads/endpoint/manifest/artifacts-9.1.3.zip');
	t.is(parseDefendManifestPath('downloads/endpoint/manifest/artifacts-9.1.3.zip'), '9.1.3');
	t.is(parseDefendManifestPath('downloads/endpoint/manifest/other.zip'), undefined);
});

test('relative_url must be a plain path under /downloads/ on the same host', (t) => {
	for (const good of [
		'/downloads/endpoint/artifacts/endpoint-exceptionlist-windows-v1/abc123',
		'/downloads/a_b/c.d-e~f',
	]) {
		t.true(isPlainDownloadPath(good), good);
	}

	for (const bad of [
		'downloads/x',
		'/downloads/../etc/passwd',
		'/downloads/./x',
		'/downloads//x',
		'/downloads/x?y=1',
		'/downloads/x#y',
		'/downloads/%2e%2e/x',
		'/downloads\\x',
		'http://evil.example/downloads/x',
		'//evil.example/downloads/x',
		'/other/x',
	]) {
		t.false(isPlainDownloadPath(bad), bad);
	}
});

test('a manifest parses into its artifacts with tree paths; each bad field is named', (t) => {
	const {entry} = artifact('{"entries":[]}');
	const parsed = parseDefendManifest(
		manifestOf({'endpoint-exceptionlist-linux-v1': entry}),
		'artifacts-9.1.3.zip',
	);
	t.is(parsed.manifestVersion, '1.0.42');
	t.is(parsed.schemaVersion, 'v1');
	t.deepEqual(
		parsed.artifacts.map((ref) => [ref.identifier, ref.path]),
		[['endpoint-exceptionlist-linux-v1', entry.relative_url.slice(1)]],
	);

	// The same file named twice with the same digests is one artifact.
	t.is(parseDefendManifest(manifestOf({a: entry, b: entry}), 'm').artifacts.length, 1);

	const sealed = parseDefendManifest(
		manifestOf({
			'endpointpe-v4-blocklist': {
				...entry,
				encryption_algorithm: 'RC4-example',
				compression_algorithm: 'zlib',
			},
		}),
		'artifacts-9.1.3.zip',
	);
	t.is(
		sealed.artifacts[0]?.encryption,
		'RC4-example',
		'an encrypted artifact is kept, to be checked on its encoded bytes',
	);

	const cases: Array<[string, RegExp]> = [
		['not json', /manifest\.json is not JSON/],
		[JSON.stringify({schema_version: 'v1', artifacts: {}}), /no manifest_version/],
		[
			manifestOf({a: {...entry, relative_url: '/downloads/../x'}}),
			/artifact a has relative_url "\/downloads\/\.\.\/x", not a plain path/,
		],
		[
			manifestOf({a: {...entry, relative_url: 'https://evil.example/downloads/x'}}),
			/not a plain path under \/downloads\//,
		],
		[manifestOf({a: {...entry, encoded_sha256: 'xyz'}}), /artifact a lacks sha256 digests or sizes/],
		[
			manifestOf({
				a: {...entry, relative_url: '/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz'},
			}),
			/where the mirror keeps other files/,
		],
		[
			manifestOf({a: {...entry, relative_url: '/downloads/endpoint/manifest/artifacts-9.1.3.zip'}}),
			/where the mirror keeps other files/,
		],
		[manifestOf({a: {...entry, decoded_size: -1}}), /lacks sha256 digests or sizes/],
		[
			manifestOf({a: {...entry, compression_algorithm: 'lzma'}}),
			/uses compression lzma, which the mirror cannot check/,
		],
		[manifestOf({a: {...entry, encryption_algorithm: 7}}), /has no compression or encryption algorithm/],
	];
	for (const [text, message] of cases) {
		const error = t.throws(() => parseDefendManifest(text, 'artifacts-9.1.3.zip'));
		t.is((error as {code?: string}).code, 'ERR_DEFEND');
		t.regex(error?.message ?? '', message);
		t.false(error?.message.includes('\n'));
	}
});

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

test('a manifest zip: manifest.json inside is read and checked; a zip without it or a non-zip is refused', async (t) => {
	const dir = await tempDir(t);
	const {entry} = artifact('rules');
	const good = path.join(dir, 'good.zip');
	await writeFile(good, await zipOf({'manifest.json': manifestOf({a: entry}), 'manifest.sig': 'opaque'}));
	t.is((await readDefendManifestZip(good, 'artifacts-9.1.3.zip')).artifacts.length, 1);

	const empty = path.join(dir, 'empty.zip');
	await writeFile(empty, await zipOf({'other.json': '{}'}));
	const missing = await t.throwsAsync(readDefendManifestZip(empty, 'artifacts-9.1.3.zip'));
	t.is((missing as {code?: string}).code, 'ERR_DEFEND');
	t.regex(missing?.message ?? '', /artifacts-9\.1\.3\.zip holds no manifest\.json/);

	const page = path.join(dir, 'page.zip');
	await writeFile(page, '<html>Access Denied</html>');
	const notZip = await t.throwsAsync(readDefendManifestZip(page, 'artifacts-9.1.3.zip'));
	t.is((notZip as {code?: string}).code, 'ERR_DEFEND');
	t.regex(notZip?.message ?? '', /is not a readable zip/);
});

test('an artifact: encoded bytes, then inflated bytes, each against its sha256 and size', async (t) => {
	const dir = await tempDir(t);
	const {encoded, entry} = artifact('{"entries":[{"type":"simple"}]}');
	const ref: DefendArtifactRef = parseDefendManifest(manifestOf({a: entry}), 'm')
		.artifacts[0] as DefendArtifactRef;
	const file = path.join(dir, 'a');
	await writeFile(file, encoded);
	await t.notThrowsAsync(checkDefendArtifact(file, ref));
	await t.notThrowsAsync(checkDefendArtifact(file, ref, {size: encoded.length, sha256: sha256(encoded)}));

	// Other bytes of the same size: the encoded digest tells.
	const flipped = Buffer.from(encoded);
	flipped.writeUInt8((flipped.readUInt8(5) + 1) % 256, 5);
	await writeFile(file, flipped);
	const bad = await t.throwsAsync(checkDefendArtifact(file, ref));
	t.is((bad as {code?: string}).code, 'ERR_CHECKSUM');
	t.regex(bad?.message ?? '', /the manifest says \d+ bytes with encoded_sha256/);

	// Encoded digest right but decoded claims wrong (a manifest that lies about the content).
	await writeFile(file, encoded);
	const lying = {...ref, decodedSha256: '0'.repeat(64)};
	const decoded = await t.throwsAsync(checkDefendArtifact(file, lying));
	t.regex(
		decoded?.message ?? '',
		/inflates to \d+ bytes with sha256 \w+, the manifest says .* decoded_sha256 0{64}/,
	);

	// Bytes that are not zlib at all, with a manifest that says they are.
	const raw = Buffer.from('not zlib');
	await writeFile(file, raw);
	const notZlib = await t.throwsAsync(
		checkDefendArtifact(file, {...ref, encodedSha256: sha256(raw), encodedSize: raw.length}),
	);
	t.regex(notZlib?.message ?? '', /does not inflate as zlib/);

	// An encrypted artifact (Endpoint holds the key): its encoded bytes are all the mirror can check.
	const sealed = {...ref, encryption: 'RC4-example', encodedSha256: sha256(raw), encodedSize: raw.length};
	await t.notThrowsAsync(checkDefendArtifact(file, sealed));
	await writeFile(file, Buffer.from('not zlob'));
	await t.throwsAsync(checkDefendArtifact(file, sealed), {message: /encoded_sha256/});
	await writeFile(file, raw);

	// A zlib bomb: inflating stops past decoded_size instead of running through gigabytes.
	const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));
	await writeFile(file, bomb);
	const bombRef = {...ref, encodedSha256: sha256(bomb), encodedSize: bomb.length, decodedSize: 4};
	const bombed = await t.throwsAsync(checkDefendArtifact(file, bombRef));
	t.regex(bombed?.message ?? '', /inflates to more than the 4 bytes its manifest's decoded_size says/);
	await writeFile(file, raw);

	// compression none: decoded is the encoded bytes.
	await t.notThrowsAsync(
		checkDefendArtifact(file, {
			...ref,
			compression: 'none',
			encodedSha256: sha256(raw),
			encodedSize: raw.length,
			decodedSha256: sha256(raw),
			decodedSize: raw.length,
		}),
	);
});
