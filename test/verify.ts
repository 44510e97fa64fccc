import {createHash} from 'node:crypto';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import * as openpgp from 'openpgp';
import {SidecarError, SignatureError, UsageError} from '../src/errors.js';
import {createFileHasher} from '../src/trust/hash-pool.js';
import {checkKeyFile, loadTrustedKeys} from '../src/trust/keys.js';
import {parseSha512Sidecar} from '../src/trust/sidecar.js';
import {checkSignature, prepareSignature} from '../src/trust/signature.js';
import {verifyArtifact} from '../src/trust/verify-artifact.js';
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
	// The signature alone, through the one trust path: the `.sha512` matches the file.
	const sha512Sidecar = `${createHash('sha512').update(data).digest('hex')}  ${name}\n`;
	const verifySignature = (source: string, fileName: string, ascSidecar: string, keys: typeof trusted) =>
		verifyArtifact({fileName, sha512Sidecar, ascSidecar, source}, keys);

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

/** Sign `data` with `privateKey` the given way; detached and armored, as upstream's `.asc`. */
async function signWith(
	privateKey: openpgp.PrivateKey,
	data: Buffer,
	options: {hash?: openpgp.enums.hash; text?: boolean} = {},
): Promise<string> {
	const message = options.text
		? await openpgp.createMessage({text: data.toString('utf8')})
		: await openpgp.createMessage({binary: data});
	return openpgp.sign({
		message,
		signingKeys: privateKey,
		detached: true,
		format: 'armored',
		...(options.hash ? {config: {preferredHashAlgorithm: options.hash}} : {}),
	});
}

/** Feed `data` through a hasher in uneven chunks, as a download does. */
async function digestsOf(data: Buffer, prepared: Awaited<ReturnType<typeof prepareSignature>>) {
	const hasher = createFileHasher(prepared.specs);
	for (let offset = 0; offset < data.length; offset += 7777) {
		await hasher.update(data.subarray(offset, offset + 7777));
	}

	return hasher.finish();
}

test('one pass over the bytes checks the signature: SHA-512 and SHA-256, RSA and Ed25519, v4 and v6; the file is not read again', async (t) => {
	const data = Buffer.alloc(100_000, 'elastic-agent bytes ');
	const tampered = Buffer.from(data);
	tampered.writeUInt8(tampered.readUInt8(54_321) ^ 1, 54_321);
	const keys = await Promise.all([
		openpgp.generateKey({type: 'rsa', rsaBits: 2048, userIDs: [{name: 'RSA'}], format: 'object'}),
		openpgp.generateKey({userIDs: [{name: 'Ed25519 v4'}], format: 'object'}),
		openpgp.generateKey({userIDs: [{name: 'Ed25519 v6'}], format: 'object', config: {v6Keys: true}}),
	]);
	const trusted = {
		keys: keys.map((key) => key.publicKey),
		fingerprints: new Set(keys.map((key) => key.publicKey.getFingerprint().toUpperCase())),
	};
	for (const {privateKey, publicKey} of keys) {
		for (const hash of [openpgp.enums.hash.sha512, openpgp.enums.hash.sha256]) {
			const label = `${publicKey.getUserIDs()[0]} hash ${hash}`;
			const asc = await signWith(privateKey, data, {hash});
			const prepared = await prepareSignature(asc, name, trusted);
			t.true(prepared.singlePass, label);
			const digests = await digestsOf(data, prepared);
			t.is(digests.sha512, createHash('sha512').update(data).digest('hex'), label);
			// A path that does not exist: the check must come from the digests alone.
			const result = await checkSignature(prepared, digests, '/nonexistent/file', trusted);
			t.is(result.keyId, publicKey.getKeyID().toHex().toUpperCase(), label);

			const again = await prepareSignature(asc, name, trusted);
			await t.throwsAsync(
				checkSignature(again, await digestsOf(tampered, again), '/nonexistent/file', trusted),
				{
					instanceOf: SignatureError,
					message: /bad signature/,
				},
			);
		}
	}
});

test('signatures the single pass does not cover (text mode) are checked by reading the file', async (t) => {
	const dir = await tempDir(t);
	const {privateKey, publicKey} = await openpgp.generateKey({userIDs: [{name: 'Text'}], format: 'object'});
	const trusted = {keys: [publicKey], fingerprints: new Set([publicKey.getFingerprint().toUpperCase()])};
	const data = Buffer.from('a text artifact\n');
	const file = path.join(dir, name);
	await writeFile(file, data);
	const asc = await signWith(privateKey, data, {text: true});
	const prepared = await prepareSignature(asc, name, trusted);
	t.false(prepared.singlePass);
	t.truthy(await checkSignature(prepared, await digestsOf(data, prepared), file, trusted));
	await writeFile(file, 'another text artifact\n');
	const again = await prepareSignature(asc, name, trusted);
	await t.throwsAsync(checkSignature(again, await digestsOf(data, again), file, trusted), {
		message: /bad signature/,
	});
});

test('an .asc with signatures by an untrusted and a trusted key verifies by the trusted one', async (t) => {
	const [signer, other] = await Promise.all([createTestKey(), createTestKey('Other')]);
	const data = Buffer.from('artifact bytes');
	const message = await openpgp.createMessage({binary: data});
	const asc = await openpgp.sign({
		message,
		signingKeys: [other.privateKey, signer.privateKey],
		detached: true,
		format: 'armored',
	});
	const trusted = {
		keys: [signer.privateKey.toPublic()],
		fingerprints: new Set([signer.fingerprint]),
	};
	const prepared = await prepareSignature(asc, name, trusted);
	t.is(prepared.packets.length, 2);
	const result = await checkSignature(
		prepared,
		await digestsOf(data, prepared),
		'/nonexistent/file',
		trusted,
	);
	t.is(result.keyId, signer.fingerprint.slice(-16));
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
