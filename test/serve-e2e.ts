import {createHash} from 'node:crypto';
import path from 'node:path';
import test from 'ava';
import * as openpgp from 'openpgp';
import {getJson, request} from './helpers/http.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import {withMirror, withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
test.before(async () => {
	key = await createTestKey();
});

const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('hex');

/**
The agent's checksum rule, written out independently of src/: every line has
exactly two fields, `*` may prefix the name, and the name must be the file's own.
*/
function agentChecksum(sidecar: string, fileName: string): string | undefined {
	for (const line of sidecar.split('\n')) {
		const fields = line.trim().split(/\s+/);
		if (fields.length === 2 && fields[1]?.replace(/^\*/, '') === fileName) {
			return fields[0];
		}
	}

	return undefined;
}

test('end to end: every synced artifact downloads and verifies the way Elastic Agent does it', async (t) => {
	const mirror = await withMirror(t, key, {
		versions: ['8.19.4', '9.1.3'],
		products: ['elastic-agent', 'fleet-server', 'filebeat'],
		platforms: ['linux-x86_64', 'linux-arm64', 'windows-x86_64', 'darwin-aarch64', 'rpm-x86_64'],
		fips: true,
	});
	// The key an operator points --pgp-uri or Fleet Server's server.pgp.upstream_url at.
	const keyResponse = await request(mirror.url, '/GPG-KEY-elastic-agent');
	t.is(keyResponse.status, 200);
	const publicKey = await openpgp.readKey({armoredKey: keyResponse.text});
	t.is(publicKey.getFingerprint().toUpperCase(), key.fingerprint);

	const agent = {'User-Agent': 'Beat elastic-agent v9.1.2', 'Accept-Encoding': 'gzip'};
	t.true(mirror.upstream.refs.length > 20);
	for (const ref of mirror.upstream.refs) {
		const fileName = path.posix.basename(ref.path);
		// join(sourceURI, "beats/elastic-agent", fileName) with sourceURI = <mirror>/downloads/
		const file = await request(mirror.url, `/${ref.path}`, {headers: agent});
		t.is(file.status, 200, ref.path);
		t.is(Number(file.headers['content-length']), file.body.length, ref.path);
		t.is(file.headers['content-encoding'], undefined, ref.path);

		const sidecar = await request(mirror.url, `/${ref.path}.sha512`, {headers: agent});
		t.is(sidecar.status, 200, ref.path);
		t.is(agentChecksum(sidecar.text, fileName), sha512(file.body), ref.path);

		const asc = await request(mirror.url, `/${ref.path}.asc`, {headers: agent});
		t.is(asc.status, 200, ref.path);
		const {signatures} = await openpgp.verify({
			message: await openpgp.createMessage({binary: file.body}),
			signature: await openpgp.readSignature({armoredSignature: asc.text}),
			verificationKeys: publicKey,
		});
		await t.notThrowsAsync(signatures[0]?.verified as Promise<true>, ref.path);
		t.true(file.body.equals(mirror.upstream.files.get(ref.path) as Buffer), ref.path);
	}

	const metrics = (await request(mirror.url, '/metrics')).text;
	// 9.1.2 is not a version this mirror holds: the label is "other" (issue 14 item 24 bounds it).
	t.true(
		metrics.includes(`mirror_agent_downloads_total{agent_version="other"} ${mirror.upstream.refs.length}`),
	);
	t.true(
		metrics.includes(
			'mirror_artifact_downloads_total{product="elastic-agent-fips",version="9.1.3",platform="linux-x86_64"} 1',
		),
	);
});

test('reading while sync publishes: never a torn file, never an artifact without its sidecars', async (t) => {
	const versions = ['9.1.0', '9.1.1', '9.1.2', '9.1.3', '9.2.0-SNAPSHOT'];
	const setup = await withUpstream(t, key, {
		versions,
		platforms: ['linux-x86_64', 'windows-x86_64'],
		size: 192 * 1024,
	});
	const server = await withServer(t, setup.dir);
	const snapshotPath = 'downloads/beats/elastic-agent/elastic-agent-9.2.0-SNAPSHOT-linux-x86_64.tar.gz';
	// Slow bodies keep files in flight while the reader polls.
	for (const ref of setup.upstream.refs.filter((_, index) => index % 3 === 0)) {
		setup.upstream.faults.set(ref.path, {bytesPerSecond: 1024 * 1024});
	}

	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: versions.join(','),
		platforms: 'linux-x86_64,windows-x86_64',
		concurrency: '3',
	});
	const allowed = new Map<string, Buffer[]>(
		[...setup.upstream.files].map(([file, bytes]) => [file, [bytes]]),
	);
	let checked = 0;
	let running = true;
	const reader = (async () => {
		while (running) {
			const listing = await getJson<{entries: Array<{name: string}>}>(
				server.url,
				'/downloads/beats/elastic-agent/',
			).catch(() => ({entries: []}));
			const artifacts = listing.entries
				.map((entry) => entry.name)
				.filter((name) => !name.endsWith('.sha512') && !name.endsWith('.asc'));
			await Promise.all(
				artifacts.map(async (name) => {
					const file = `downloads/beats/elastic-agent/${name}`;
					const body = await request(server.url, `/${file}`);
					if (body.status !== 200) {
						// Gone for a moment while a SNAPSHOT is replaced: allowed; torn is not.
						t.is(body.status, 404, file);
						return;
					}

					t.true(
						(allowed.get(file) ?? []).some((bytes) => bytes.equals(body.body)),
						`${file}: served bytes match no complete upstream version`,
					);
					const [sums, signature] = await Promise.all([
						request(server.url, `/${file}.sha512`),
						request(server.url, `/${file}.asc`),
					]);
					t.is(sums.status, 200, `${file}.sha512 missing while the artifact is served`);
					t.is(signature.status, 200, `${file}.asc missing while the artifact is served`);
					if (!file.includes('SNAPSHOT')) {
						t.is(agentChecksum(sums.text, name), sha512(body.body), file);
					}

					checked++;
				}),
			);
		}
	})();

	const first = await runSync(flags);
	t.is(first.summary.result, 'success');
	// Upstream rebuilds the SNAPSHOT; the next sync replaces it while the reader keeps reading.
	const old = allowed.get(snapshotPath) ?? [];
	await setup.upstream.publish(snapshotPath, Buffer.alloc(300 * 1024, 7));
	allowed.set(snapshotPath, [...old, setup.upstream.files.get(snapshotPath) as Buffer]);
	setup.upstream.faults.set(snapshotPath, {bytesPerSecond: 1024 * 1024});
	const second = await runSync(flags);
	t.is(second.summary.published, 1);
	running = false;
	await reader;
	t.true(checked > 10, `only ${checked} artifacts were read during the syncs`);
	const final = await request(server.url, `/${snapshotPath}`);
	t.true(final.body.equals(setup.upstream.files.get(snapshotPath) as Buffer));
});
