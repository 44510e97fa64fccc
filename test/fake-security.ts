/**
The fake security artifacts host against what docs/defend-artifacts.md says the real one serves:
manifest zips Kibana's schema accepts, artifacts whose hashes and sizes match (except where a
version is built not to), the documented `zcat` recipe working on the zip, object-store headers,
publishing a newer manifest, and one file for an artifact two versions name.
*/
import {execFile} from 'node:child_process';
import {createHash, verify} from 'node:crypto';
import {inflateSync} from 'node:zlib';
import test from 'ava';
import yauzl from 'yauzl';
import {
	type FakeManifest,
	type FakeSecurityHost,
	fakeManifestSigningKey,
	standardDefendVersions,
	startFakeSecurityHost,
} from './helpers/fake-security.js';

let host: FakeSecurityHost;

test.before(async () => {
	host = await startFakeSecurityHost({versions: standardDefendVersions});
});
test.after.always(() => host?.close());

const get = (path: string, init?: RequestInit) => fetch(`${host.url}${path}`, init);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const good = ['8.19.3', '9.0.7', '9.1.3'];

/** Every entry of a zip, in zip order. */
function unzip(zip: Buffer): Promise<[string, Buffer][]> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(zip, {lazyEntries: true}, (error, archive) => {
			if (error || !archive) {
				return reject(error);
			}
			const entries: [string, Buffer][] = [];
			archive.on('entry', (entry: yauzl.Entry) => {
				archive.openReadStream(entry, async (streamError, stream) => {
					if (streamError || !stream) {
						return reject(streamError);
					}
					const chunks: Buffer[] = [];
					for await (const chunk of stream) {
						chunks.push(chunk as Buffer);
					}
					entries.push([entry.fileName, Buffer.concat(chunks)]);
					archive.readEntry();
				});
			});
			archive.on('end', () => resolve(entries));
			archive.readEntry();
		});
	});
}

async function manifestOf(version: string): Promise<FakeManifest> {
	const response = await get(`/downloads/endpoint/manifest/artifacts-${version}.zip`);
	const entries = await unzip(Buffer.from(await response.arrayBuffer()));
	return JSON.parse((entries[0]?.[1] ?? '').toString()) as FakeManifest;
}

/** What an artifact check finds wrong with one manifest entry fetched over HTTP, or [] when fine. */
async function problems(entry: FakeManifest['artifacts'][string]): Promise<string[]> {
	const response = await get(entry.relative_url);
	if (response.status !== 200) {
		return [`status ${response.status}`];
	}
	const encoded = Buffer.from(await response.arrayBuffer());
	const found: string[] = [];
	if (encoded.length !== entry.encoded_size) {
		found.push('encoded_size');
	}
	if (sha256(encoded) !== entry.encoded_sha256) {
		found.push('encoded_sha256');
		return found;
	}
	const decoded = inflateSync(encoded);
	if (decoded.length !== entry.decoded_size) {
		found.push('decoded_size');
	}
	if (sha256(decoded) !== entry.decoded_sha256) {
		found.push('decoded_sha256');
	}
	return found;
}

test('each manifest zip holds manifest.json first, in the shape of Kibana manifestSchema', async (t) => {
	for (const spec of standardDefendVersions) {
		const response = await get(`/downloads/endpoint/manifest/artifacts-${spec.version}.zip`);
		t.is(response.status, 200);
		t.is(response.headers.get('content-type'), 'application/zip');
		const entries = await unzip(Buffer.from(await response.arrayBuffer()));
		t.deepEqual(
			entries.map(([name]) => name),
			spec.signed ? ['manifest.json', 'manifest.sig'] : ['manifest.json'],
		);
		const manifest = JSON.parse((entries[0]?.[1] ?? '').toString()) as FakeManifest;
		t.deepEqual(Object.keys(manifest), ['manifest_version', 'schema_version', 'artifacts']);
		t.is(manifest.manifest_version, spec.manifestVersion);
		t.is(manifest.schema_version, 'v1');
		t.deepEqual(
			Object.keys(manifest.artifacts),
			spec.artifacts.map((a) => a.identifier),
		);
		for (const [identifier, entry] of Object.entries(manifest.artifacts)) {
			t.deepEqual(Object.keys(entry).sort(), [
				'compression_algorithm',
				'decoded_sha256',
				'decoded_size',
				'encoded_sha256',
				'encoded_size',
				'encryption_algorithm',
				'relative_url',
			]);
			t.is(entry.compression_algorithm, 'zlib');
			t.is(entry.encryption_algorithm, 'none');
			t.is(entry.relative_url, `/downloads/endpoint/artifacts/${identifier}/${entry.decoded_sha256}`);
		}
		const signature = entries[1]?.[1];
		if (signature) {
			const json = entries[0]?.[1] ?? Buffer.alloc(0);
			t.true(verify('sha256', json, fakeManifestSigningKey().publicKey, signature));
			t.false(
				verify(
					'sha256',
					Buffer.concat([json, Buffer.from(' ')]),
					fakeManifestSigningKey().publicKey,
					signature,
				),
			);
		}
	}
});

test('the documented recipe reads the zip: zcat -q gives manifest.json, signed or not', async (t) => {
	for (const [version, manifestVersion] of [
		['9.0.7', '1.0.2422'],
		['9.1.3', '1.0.2431'],
	] as const) {
		const zip = host.file(`downloads/endpoint/manifest/artifacts-${version}.zip`);
		t.truthy(zip);
		// gzip exits 2 ("more than one entry--rest ignored", silenced by -q) when manifest.sig follows;
		// the recipe pipes on regardless, so only stdout matters.
		const out = await new Promise<string>((resolve, reject) => {
			const child = execFile('zcat', ['-q'], {encoding: 'utf8'}, (error, stdout) =>
				error && error.code !== 2 ? reject(error) : resolve(stdout),
			);
			child.stdin?.end(zip);
		});
		t.is((JSON.parse(out) as FakeManifest).manifest_version, manifestVersion);
	}
});

test('every artifact of the good versions matches its sizes and hashes, encoded and inflated', async (t) => {
	for (const version of good) {
		const manifest = await manifestOf(version);
		t.true(Object.keys(manifest.artifacts).length >= 6);
		for (const [identifier, entry] of Object.entries(manifest.artifacts)) {
			t.deepEqual(await problems(entry), [], `${version} ${identifier}`);
			t.not(entry.encoded_size, entry.decoded_size, `${version} ${identifier} is really compressed`);
		}
	}
	const model = (await manifestOf('9.1.3')).artifacts['endpointpe-v4-model'];
	t.is(model?.decoded_size, 256 * 1024);
});

test('9.1.2 serves one artifact whose bytes do not match its encoded_sha256', async (t) => {
	const manifest = await manifestOf('9.1.2');
	const found: Record<string, string[]> = {};
	for (const [identifier, entry] of Object.entries(manifest.artifacts)) {
		found[identifier] = await problems(entry);
	}
	t.deepEqual(found, {
		'global-exceptionlist-windows': [],
		'global-exceptionlist-linux': [],
		'diagnostic-configuration-v1': ['encoded_sha256'],
	});
});

test('headers: strong ETag without a dash, Last-Modified, exact length, 304, HEAD, 404', async (t) => {
	const path = '/downloads/endpoint/manifest/artifacts-9.0.7.zip';
	const first = await get(path, {headers: {'Accept-Encoding': 'gzip'}});
	const body = Buffer.from(await first.arrayBuffer());
	const etag = first.headers.get('etag') ?? '';
	t.regex(etag, /^"[0-9a-f]{32}"$/);
	t.false(etag.includes('-'));
	t.truthy(first.headers.get('last-modified'));
	t.is(first.headers.get('content-length'), String(body.length));
	t.is(first.headers.get('content-encoding'), null);
	t.deepEqual(body, host.file(path));

	const again = await get(path, {headers: {'If-None-Match': etag}});
	t.is(again.status, 304);
	t.is(again.headers.get('etag'), etag);
	t.is((await again.arrayBuffer()).byteLength, 0);
	const stale = await get(path, {headers: {'If-None-Match': '"0123456789abcdef0123456789abcdef"'}});
	t.is(stale.status, 200);
	await stale.arrayBuffer();
	t.like(
		host.requests.findLast((r) => r.path === path && r.status === 304),
		{
			method: 'GET',
			ifNoneMatch: etag,
		},
	);

	const head = await get(path, {method: 'HEAD'});
	t.is(head.status, 200);
	t.is(head.headers.get('content-length'), String(body.length));
	t.is(head.headers.get('etag'), etag);

	const missing = await get('/downloads/endpoint/manifest/artifacts-7.0.0.zip');
	t.is(missing.status, 404);
	t.regex(await missing.text(), /NoSuchKey/);
	t.is(host.file('downloads/endpoint/manifest/artifacts-7.0.0.zip'), undefined);
	t.deepEqual(host.filesOf('7.0.0'), []);
});

test('an artifact two versions name is one file, listed for both', async (t) => {
	const a = host.filesOf('9.0.7');
	const b = host.filesOf('9.1.3');
	const shared = a.filter((path) => b.includes(path));
	t.is(shared.length, 2);
	t.true(shared.some((path) => path.startsWith('downloads/endpoint/artifacts/endpointpe-v4-model/')));
	t.true(shared.some((path) => path.startsWith('downloads/endpoint/artifacts/global-exceptionlist-linux/')));
	const everything = standardDefendVersions.flatMap((v) => host.filesOf(v.version));
	t.is(new Set(everything).size, everything.length - shared.length);
	for (const path of everything) {
		t.truthy(host.file(path), path);
	}
});

test('faults answer their statuses once each, then the file; a delay holds the answer', async (t) => {
	const path = host.filesOf('8.19.3')[1] ?? '';
	host.fault(path, {statuses: [503, 500]});
	t.is((await get(`/${path}`)).status, 503);
	t.is((await get(`/${path}`)).status, 500);
	const ok = await get(`/${path}`);
	t.is(ok.status, 200);
	t.deepEqual(Buffer.from(await ok.arrayBuffer()), host.file(path));
	// A held answer lets another request overtake it: the order the fake finished them in shows the hold.
	const other = host.filesOf('8.19.3')[2] ?? '';
	host.fault(path, {delayMs: 300});
	const held = get(`/${path}`);
	const quick = await get(`/${other}`);
	t.is(quick.status, 200);
	t.is((await held).status, 200);
	const order = host.requests.map((r) => r.path).filter((p) => p === `/${path}` || p === `/${other}`);
	t.deepEqual(order.slice(-2), [`/${other}`, `/${path}`]);
	host.fault(path, {});
});

test('publish() serves a new manifest and its new artifacts and keeps the old artifacts', async (t) => {
	const own = await startFakeSecurityHost({versions: standardDefendVersions});
	t.teardown(() => own.close());
	const base = standardDefendVersions.find((v) => v.version === '9.1.3');
	if (!base) {
		return t.fail();
	}
	const zipPath = 'downloads/endpoint/manifest/artifacts-9.1.3.zip';
	const before = own.filesOf('9.1.3');
	const oldEtag = (await fetch(`${own.url}/${zipPath}`, {method: 'HEAD'})).headers.get('etag') ?? '';
	await own.publish({
		...base,
		manifestVersion: '1.0.2432',
		artifacts: [
			...base.artifacts.filter((a) => a.identifier !== 'global-exceptionlist-windows'),
			{identifier: 'global-exceptionlist-windows', content: '{"entries":[]}'},
			{identifier: 'endpoint-exceptionlist-windows-v1', content: '{"entries":[{"type":"simple"}]}'},
		],
	});
	const after = own.filesOf('9.1.3');
	const changed = await fetch(`${own.url}/${zipPath}`, {headers: {'If-None-Match': oldEtag}});
	t.is(changed.status, 200);
	const entries = await unzip(Buffer.from(await changed.arrayBuffer()));
	const manifest = JSON.parse((entries[0]?.[1] ?? '').toString()) as FakeManifest;
	t.is(manifest.manifest_version, '1.0.2432');
	t.is(Object.keys(manifest.artifacts).length, 7);
	const added = after.filter((path) => !before.includes(path));
	t.is(added.length, 2);
	const dropped = before.filter((path) => !after.includes(path));
	t.is(dropped.length, 1);
	for (const path of [...after, ...dropped]) {
		t.is((await fetch(`${own.url}/${path}`)).status, 200, path);
	}
	t.deepEqual(own.filesOf('9.0.7'), host.filesOf('9.0.7'));
});
