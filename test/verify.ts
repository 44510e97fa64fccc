import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {SidecarError, SignatureError, UsageError} from '../src/errors.js';
import {checkKeyFile, loadTrustedKeys, parseSha512Sidecar, verifySignature} from '../src/sync/verify.js';
import {createTestKey} from './helpers/keys.js';
import {tempDir} from './helpers/temp.js';

const hash = 'ab'.repeat(64);
const name = 'elastic-agent-9.1.3-linux-x86_64.tar.gz';

test('.sha512 is read the way the agent reads it', (t) => {
	t.is(parseSha512Sidecar(`${hash}  ${name}\n`, name), hash);
	t.is(parseSha512Sidecar(`${hash} *${name}`, name), hash);
	t.is(parseSha512Sidecar(`${'cd'.repeat(64)}  other.tar.gz\n${hash}  ${name}\n`, name), hash);
	t.is(parseSha512Sidecar(`${hash}\t${name}\r\n`, name), hash);
});

test('.sha512 forms the agent rejects are rejected', (t) => {
	for (const text of [
		`${hash}\n`,
		`${hash}  other-file.tar.gz\n`,
		`${hash}  ${name} extra\n`,
		`${hash.toUpperCase()}  ${name}\n`,
		`${hash.slice(2)}  ${name}\n`,
		'<html><body>404</body></html>',
		'',
	]) {
		t.throws(() => parseSha512Sidecar(text, name), {instanceOf: SidecarError}, JSON.stringify(text));
	}
});

test('signatures verify only against trusted keys and only for the signed bytes', async (t) => {
	const dir = await tempDir(t);
	const [signer, other] = await Promise.all([createTestKey(), createTestKey('Other')]);
	const file = path.join(dir, name);
	const data = Buffer.from('artifact bytes');
	await writeFile(file, data);
	const trusted = await loadTrustedKeys([await signer.writePublic(dir, 'signer.asc')]);

	const good = await verifySignature(file, name, await signer.sign(data), trusted);
	t.is(good.keyId, signer.fingerprint.slice(-16));
	await t.throwsAsync(verifySignature(file, name, await other.sign(data), trusted), {
		instanceOf: SignatureError,
		message: /not a trusted key/,
	});
	await t.throwsAsync(verifySignature(file, name, await signer.sign(Buffer.from('other bytes')), trusted), {
		instanceOf: SignatureError,
		message: /bad signature/,
	});
	await t.throwsAsync(verifySignature(file, name, 'not a signature', trusted), {
		instanceOf: SignatureError,
		message: /not an armored PGP signature/,
	});
});

test('trusted keys: unreadable or non-key files are usage errors; key files are checked by fingerprint', async (t) => {
	const dir = await tempDir(t);
	const junk = path.join(dir, 'junk.asc');
	await writeFile(junk, 'hello');
	await t.throwsAsync(loadTrustedKeys([junk]), {
		instanceOf: UsageError,
		message: /junk\.asc is not an armored PGP public key/,
	});
	await t.throwsAsync(loadTrustedKeys([path.join(dir, 'missing.asc')]), {
		instanceOf: UsageError,
		message: /cannot read trusted key/,
	});

	const [signer, other] = await Promise.all([createTestKey(), createTestKey('Other')]);
	const trusted = await loadTrustedKeys([await signer.writePublic(dir)]);
	t.deepEqual(await checkKeyFile(signer.armoredPublic, trusted), {
		fingerprints: [signer.fingerprint],
		untrusted: [],
	});
	t.deepEqual((await checkKeyFile(other.armoredPublic, trusted)).untrusted, [other.fingerprint]);
});
