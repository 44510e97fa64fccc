/**
The package versions of a bundle on import: each listed version must come with its
three files, and each is verified as sync verifies a download (signature against the
trusted keys, one top folder, manifest.yml, info agreement) before anything of the
bundle is published. Publishing goes through the writer: signature and zip before
the info that makes a version visible.
*/
import {readFile} from 'node:fs/promises';
import {BundleError} from '../errors.js';
import type {MirrorWriter, VerifiedPackage} from '../mirror/writer.js';
import {packageFiles, parsePackagePath} from '../packages/catalog.js';
import {verifyPackage} from '../packages/verify.js';
import type {PackageEntry} from '../store/manifest.js';
import type {MirrorStore, PublishedFile} from '../store/store.js';
import type {TrustedKeys} from '../trust/keys.js';
import type {BundleFile, BundleManifest} from './format.js';

/** A checked package version of the bundle, ready to publish. */
export type BundlePackage = {
	readonly entry: VerifiedPackage['entry'];
	/** Staged signature, zip and info, in publishing order. */
	readonly staged: readonly [signature: string, zip: string, info: string];
	readonly files: readonly [signature: BundleFile, zip: BundleFile, info: BundleFile];
};

/** Every file of the bundle that belongs to a listed package version. */
export function packageFilePaths(bundle: BundleManifest): Set<string> {
	return new Set((bundle.packages ?? []).flatMap((entry) => packageFiles(entry.path)));
}

/**
Check every package version the bundle lists; throws BundleError, SignatureError or
PackageError (one line naming the version) at the first bad one.
*/
export async function checkBundlePackages(
	bundle: BundleManifest,
	staged: ReadonlyMap<string, string>,
	trusted: TrustedKeys,
): Promise<BundlePackage[]> {
	const files = new Map(bundle.files.map((file) => [file.path, file]));
	const checked: BundlePackage[] = [];
	for (const listed of bundle.packages ?? []) {
		const parsed = parsePackagePath(listed.path);
		if (!parsed || parsed.name !== listed.name || parsed.version !== listed.version) {
			throw new BundleError(
				`${listed.path} in the bundle is not the zip path of ${listed.name}@${listed.version}`,
			);
		}

		const [zipPath, signaturePath, infoPath] = packageFiles(listed.path) as [string, string, string];
		const [zip, signature, info] = [zipPath, signaturePath, infoPath].map((relative) => {
			const file = files.get(relative);
			if (!file) {
				throw new BundleError(
					`${listed.path} comes without its ${relative.slice(listed.path.length - 4)} in the bundle`,
				);
			}

			return file;
		}) as [BundleFile, BundleFile, BundleFile];
		const search = listed.search;
		if (search.name !== listed.name || search.version !== listed.version) {
			throw new BundleError(`the search entry of ${listed.path} in the bundle names another package version`);
		}

		const stagedFiles = [signaturePath, zipPath, infoPath].map(
			(relative) => staged.get(relative) as string,
		) as [string, string, string];
		const facts = await verifyPackage(
			{
				name: listed.name,
				version: listed.version,
				zipFile: stagedFiles[1],
				signature: await readFile(stagedFiles[0], 'utf8'),
				info: await readFile(stagedFiles[2]),
				search,
			},
			trusted,
		);
		// The bundle's manifest vouches for the bytes; the entry is rebuilt from them, not taken on trust.
		const entry: BundlePackage['entry'] = {
			path: listed.path,
			name: listed.name,
			version: listed.version,
			size: zip.size,
			sha512: facts.sha512,
			signature: {size: signature.size, sha512: signature.sha512},
			info: {size: info.size, sha512: info.sha512},
			formatVersion: facts.formatVersion,
			search,
			upstreamModified: listed.upstreamModified,
		};
		checked.push({entry, staged: stagedFiles, files: [signature, zip, info]});
	}

	return checked;
}

/** Whether the mirror already holds exactly this version (same three files, listed). */
async function held(
	store: MirrorStore,
	current: PackageEntry | undefined,
	pkg: BundlePackage,
): Promise<boolean> {
	if (
		current?.sha512 !== pkg.entry.sha512 ||
		current.signature.sha512 !== pkg.entry.signature.sha512 ||
		current.info.sha512 !== pkg.entry.info.sha512
	) {
		return false;
	}

	const sizes = await Promise.all(packageFiles(pkg.entry.path).map((file) => store.stat(file)));
	return (
		sizes[0]?.size === pkg.entry.size &&
		sizes[1]?.size === pkg.entry.signature.size &&
		sizes[2]?.size === pkg.entry.info.size
	);
}

/** Publish the checked versions the mirror does not hold yet; counts what was published and present. */
export async function publishBundlePackages(
	store: MirrorStore,
	writer: MirrorWriter,
	packages: readonly BundlePackage[],
): Promise<{published: number; present: number; bytes: number}> {
	let published = 0;
	let present = 0;
	let bytes = 0;
	for (const pkg of packages) {
		if (await held(store, writer.manifest.packages[pkg.entry.path], pkg)) {
			present++;
			continue;
		}

		const [signature, zip, info] = pkg.files.map((file, index) => ({
			relative: file.path,
			from: {partPath: pkg.staged[index] as string},
			modified: new Date(file.modified),
			sha512: file.sha512,
		})) as [PublishedFile, PublishedFile, PublishedFile];
		await writer.publishPackage({files: [signature, zip, info], entry: pkg.entry});
		published++;
		bytes += pkg.files.reduce((sum, file) => sum + file.size, 0);
	}

	return {published, present, bytes};
}
