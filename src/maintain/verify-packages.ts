/**
verify for integration packages: each listed package version re-checked at rest as
sync checked it on the way in. The three files must have the sizes and sha512 the
manifest records, and the version must pass verifyPackage (signature against the
trusted keys, one top folder, manifest.yml, info agreement). The zip is copied into a
scratch folder first, hashed on the way, because the zip reader needs a local file
and a bucket has none: the store's temp folder for a bucket, the system's for a
directory (verify without --repair writes nothing into a mirror directory, which
may be read-only).
*/
import {createHash} from 'node:crypto';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {describeError} from '../errors.js';
import {packageFiles} from '../packages/catalog.js';
import {verifyPackage} from '../packages/verify.js';
import {copyOut} from '../store/copy-out.js';
import type {FileFacts, PackageEntry} from '../store/manifest.js';
import {makePrivateDir} from '../store/modes.js';
import type {MirrorStore} from '../store/store.js';
import type {TrustedKeys} from '../trust/keys.js';

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/** What is wrong with one small file against its manifest facts, with its bytes when it is right. */
async function readChecked(
	store: MirrorStore,
	relative: string,
	facts: FileFacts,
): Promise<{data: Buffer; problem?: undefined} | {problem: string}> {
	const data = await store.readFile(relative);
	if (!data) {
		return {problem: `${path.posix.basename(relative)} is missing from the tree`};
	}

	if (data.length !== facts.size) {
		return {
			problem: `${path.posix.basename(relative)} is ${data.length} bytes, the manifest says ${facts.size}`,
		};
	}

	if (sha512(data) !== facts.sha512) {
		return {
			problem: `${path.posix.basename(relative)}: sha512 differs from the manifest (it changed after it was published)`,
		};
	}

	return {data};
}

/** A private scratch folder for the zips verify copies out of `store`; `remove` deletes it. */
export async function packageScratch(
	store: MirrorStore,
): Promise<{dir: string; remove: () => Promise<void>}> {
	let parent = os.tmpdir();
	if (!store.local) {
		await makePrivateDir(store.tmp);
		parent = store.tmp;
	}

	const dir = await mkdtemp(path.join(parent, 'verify-packages-'));
	return {dir, remove: () => rm(dir, {recursive: true, force: true})};
}

/** The problem with one package version at rest, or undefined when it checks out; `scratch` holds its zip meanwhile. */
export async function checkPackage(
	store: MirrorStore,
	entry: PackageEntry,
	trusted: TrustedKeys,
	scratch: string,
): Promise<string | undefined> {
	const [zipPath, signaturePath, infoPath] = packageFiles(entry.path) as [string, string, string];
	const local = path.join(scratch, path.posix.basename(zipPath));
	try {
		const info = await store.stat(zipPath);
		if (!info) {
			return 'missing from the tree';
		}

		if (info.size !== entry.size) {
			return `size is ${info.size}, the manifest says ${entry.size}`;
		}

		const signature = await readChecked(store, signaturePath, entry.signature);
		if (signature.problem !== undefined) {
			return signature.problem;
		}

		const infoBytes = await readChecked(store, infoPath, entry.info);
		if (infoBytes.problem !== undefined) {
			return infoBytes.problem;
		}

		if ((await copyOut(store, zipPath, local)).sha512 !== entry.sha512) {
			return 'sha512 differs from the manifest (the zip changed after it was published)';
		}

		await verifyPackage(
			{
				name: entry.name,
				version: entry.version,
				zipFile: local,
				signature: signature.data.toString('utf8'),
				info: infoBytes.data,
				search: entry.search,
			},
			trusted,
		);
		return undefined;
	} catch (error) {
		return describeError(error);
	} finally {
		await rm(local, {force: true});
	}
}
