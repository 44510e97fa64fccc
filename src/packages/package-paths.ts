/**
package-paths: the mirror's package versions as a folder Elastic's own registry
binary loads (a `package_paths` entry of its config.yml). Its zip indexer walks the
folder for `*.zip` files and finds each signature at `<zip>.sig`, so the folder is
flat: `<n>-<v>.zip` and `<n>-<v>.zip.sig`. Each file is checked against the
manifest (size and sha512) as it is copied, written under a name the indexer skips
and renamed into place, signature before zip, so a registry watching the folder
never loads a partial zip or a zip without its signature. Files already there with
the right bytes are left as they are; nothing else in the folder is touched.
*/
import {createHash, randomBytes} from 'node:crypto';
import {chmod, mkdir, readdir, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import {MirrorError} from '../errors.js';
import {copyOut} from '../store/copy-out.js';
import {type FileFacts, readUsableManifest} from '../store/manifest.js';
import {fileMode} from '../store/modes.js';
import {withReadStore} from '../store/open.js';
import type {MirrorStore, StoreOptions} from '../store/store.js';
import {feedFile} from '../trust/hashing.js';
import {isPackageVersion, packageFiles, packageNamePattern} from './catalog.js';

/** Where to write and what to tell. */
export type PackagePathsOptions = StoreOptions & {
	/** The folder to fill; created when missing. */
	readonly out: string;
	readonly onWarning?: ((message: string) => void) | undefined;
};

/** What package-paths did. */
export type PackagePathsSummary = {
	/** The folder, absolute. */
	readonly out: string;
	readonly versions: number;
	/** Files written, and files already there with the right bytes. */
	readonly written: number;
	readonly present: number;
	readonly bytes: number;
};

/** The `package_paths:` lines of Elastic's config.yml for `out`. */
export function packagePathsSnippet(out: string): string {
	return `package_paths:\n  - ${out}\n`;
}

async function sha512OfFile(file: string): Promise<string> {
	const hash = createHash('sha512');
	await feedFile(hash, file);
	return hash.digest('hex');
}

/** Whether `target` already holds these bytes. */
async function current(target: string, facts: FileFacts): Promise<boolean> {
	const info = await stat(target).catch(() => undefined);
	return info?.isFile() === true && info.size === facts.size && (await sha512OfFile(target)) === facts.sha512;
}

/** Copy one tree file to `target`, checked against `facts`, through a temp name and a rename. */
async function copyChecked(
	store: MirrorStore,
	relative: string,
	facts: FileFacts,
	target: string,
): Promise<void> {
	// A dot name ending in .partial: neither the zip indexer nor a person listing *.zip picks it up.
	const temp = path.join(
		path.dirname(target),
		`.${path.basename(target)}.${randomBytes(4).toString('hex')}.partial`,
	);
	try {
		const {size, sha512} = await copyOut(store, relative, temp, fileMode);
		if (size !== facts.size || sha512 !== facts.sha512) {
			throw new MirrorError(
				'ERR_CHANGED',
				`${relative} in ${store.label} is not what the manifest records (${size} bytes, sha512 differs); run verify`,
			);
		}

		// The mode given at creation is cut by the umask; the registry may run as another user.
		await chmod(temp, fileMode);
		await rename(temp, target);
	} finally {
		await rm(temp, {force: true});
	}
}

/** Package files in `out` (by their names) that the mirror no longer holds. */
async function leftovers(out: string, written: ReadonlySet<string>): Promise<string[]> {
	const names = await readdir(out);
	return names.filter((name) => {
		const match = /^([a-z0-9_]+)-(.+)\.zip(\.sig)?$/.exec(name);
		const packageName = match?.[1];
		const version = match?.[2];
		return (
			packageName !== undefined &&
			version !== undefined &&
			packageNamePattern.test(packageName) &&
			isPackageVersion(version) &&
			!written.has(name)
		);
	});
}

/**
Write every package version the mirror holds into `options.out`. Only reads the
mirror (no lock; refuses while a sync holds it, as export does).
*/
export async function writePackagePaths(options: PackagePathsOptions): Promise<PackagePathsSummary> {
	const out = path.resolve(options.out);
	return withReadStore(
		options,
		(message) => options.onWarning?.(message),
		async (store) => {
			const manifest = await readUsableManifest(store);

			await mkdir(out, {recursive: true});
			const entries = Object.values(manifest.packages).sort((a, b) => a.path.localeCompare(b.path));
			const names = new Set<string>();
			let written = 0;
			let present = 0;
			let bytes = 0;
			for (const entry of entries) {
				const [zip, signature] = packageFiles(entry.path) as [string, string];
				// Signature first: a registry that sees the zip also finds its signature.
				for (const [relative, facts] of [
					[signature, entry.signature],
					[zip, entry],
				] as const) {
					const name = path.posix.basename(relative);
					names.add(name);
					const target = path.join(out, name);
					if (await current(target, facts)) {
						present++;
						continue;
					}

					await copyChecked(store, relative, facts, target);
					written++;
					bytes += facts.size;
				}
			}

			if (entries.length === 0) {
				options.onWarning?.(`${store.label} holds no package version: sync with --packages first`);
			}

			const stale = await leftovers(out, names);
			if (stale.length > 0) {
				options.onWarning?.(
					`${out} also holds ${stale.join(', ')}, which the mirror no longer holds; Elastic's registry still serves them: remove them by hand`,
				);
			}

			return {out, versions: entries.length, written, present, bytes};
		},
	);
}
