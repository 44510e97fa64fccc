/** PGP keys generated for tests, standing in for Elastic's release key. */
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';

/** A signing key and its armored public half. */
export type TestKey = {
	readonly privateKey: openpgp.PrivateKey;
	readonly armoredPublic: string;
	readonly fingerprint: string;
	/** Detached armored signature over `data`, as upstream's `.asc` files are. */
	sign(data: Uint8Array): Promise<string>;
	/** Write the armored public key to `<dir>/<name>` and return the path. */
	writePublic(dir: string, name?: string): Promise<string>;
};

/** Generate a fresh key (Ed25519: milliseconds, so every test file can have its own). */
export async function createTestKey(name = 'Test Release Signer'): Promise<TestKey> {
	const {privateKey, publicKey} = await openpgp.generateKey({
		userIDs: [{name, email: 'release@example.test'}],
		format: 'object',
	});
	return {
		privateKey,
		armoredPublic: publicKey.armor(),
		fingerprint: publicKey.getFingerprint().toUpperCase(),
		async sign(data) {
			const message = await openpgp.createMessage({binary: data});
			return openpgp.sign({message, signingKeys: privateKey, detached: true, format: 'armored'});
		},
		async writePublic(dir, file = 'trusted.asc') {
			const target = path.join(dir, file);
			await writeFile(target, publicKey.armor());
			return target;
		},
	};
}
