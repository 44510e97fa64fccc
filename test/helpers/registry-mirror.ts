/**
A mirror holding package versions without a sync: the fake registry's packages
published through the writer exactly as sync publishes a verified version
(signature, zip, then the package info, then the manifest entry), with the info
bytes as the registry served them and the search entry as its /search gave it.
*/
import {createHash} from 'node:crypto';
import type {VerifiedPackage} from '../../src/mirror/writer.js';
import {openWriter} from '../../src/mirror/writer.js';
import {packagePaths} from '../../src/packages/catalog.js';
import type {MirrorStore} from '../../src/store/store.js';
import {type FakePackage, goJson} from './fake-registry.js';

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/** The verified package `fake` as sync would hand it to the writer. */
export function verifiedPackage(fake: FakePackage): VerifiedPackage {
	const {name, version} = fake.spec;
	const paths = packagePaths(name, version);
	const signature = Buffer.from(fake.signature);
	const info = Buffer.from(goJson(fake.info));
	return {
		files: [
			{relative: paths.signature, from: {data: signature}},
			{relative: paths.zip, from: {data: fake.zip}, sha512: sha512(fake.zip)},
			{relative: paths.info, from: {data: info}},
		],
		entry: {
			path: paths.zip,
			name,
			version,
			size: fake.zip.length,
			sha512: sha512(fake.zip),
			signature: {size: signature.length, sha512: sha512(signature)},
			info: {size: info.length, sha512: sha512(info)},
			formatVersion: fake.spec.formatVersion ?? '3.0.0',
			search: fake.searchEntry,
		},
	};
}

/** Publish `packages` into the mirror of `store` and write its manifest. */
export async function publishPackages(store: MirrorStore, packages: readonly FakePackage[]): Promise<void> {
	const {writer} = await openWriter(store);
	for (const fake of packages) {
		await writer.publishPackage(verifiedPackage(fake));
	}

	await writer.save({always: true});
}
