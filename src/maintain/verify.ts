/**
verify: re-check everything the mirror serves, the way sync checked it on the way
in (size, sha512 against the manifest and the `.sha512` line, PGP signature against
the trusted keys, key files hold only trusted keys). With repair, bad artifacts are
moved out of the served tree into a quarantine folder and fetched again.
*/
import {mkdir, readFile, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import {type ArtifactRef, artifactFiles, classifyPath, keyFiles} from '../catalog.js';
import {describeError} from '../errors.js';
import {type Layout, layout, treePath} from '../store/layout.js';
import {type ManifestEntry, readManifest, writeManifest} from '../store/manifest.js';
import type {EventSink} from '../sync/events.js';
import {acquireLock} from '../sync/lock.js';
import {type SyncOptions, sync} from '../sync/run.js';
import {
	checkKeyFile,
	checkSignature,
	hashFile,
	loadTrustedKeys,
	type PreparedSignature,
	parseSha512Sidecar,
	prepareSignature,
	type TrustedKeys,
} from '../sync/verify.js';

/** One thing found wrong. */
export type Problem = {readonly path: string; readonly problem: string};

/** What verify found and did. */
export type VerifyReport = {
	readonly checked: number;
	readonly problems: readonly Problem[];
	/** Artifacts fetched again and verified. */
	readonly repaired: readonly string[];
	/** Artifacts moved out of the tree that could not be fetched again (folder given). */
	readonly quarantined: readonly string[];
	readonly quarantineDir: string | undefined;
};

/** Options: the sync options give the upstream for repairs. */
export type VerifyOptions = {
	readonly sync: SyncOptions;
	readonly repair: boolean;
	readonly onChecked?: ((done: number, total: number) => void) | undefined;
};

async function checkArtifact(
	mirror: Layout,
	entry: ManifestEntry,
	trusted: TrustedKeys,
): Promise<string | undefined> {
	const file = treePath(mirror, entry.path);
	const fileName = path.posix.basename(entry.path);
	try {
		const info = await stat(file).catch(() => undefined);
		if (!info) {
			return 'missing from the tree';
		}

		if (info.size !== entry.size) {
			return `size is ${info.size}, the manifest says ${entry.size}`;
		}

		const [sidecar, asc] = await Promise.all([
			readFile(`${file}.sha512`, 'utf8').catch(() => undefined),
			readFile(`${file}.asc`, 'utf8').catch(() => undefined),
		]);
		// The signature is read first so that one pass over the file serves both checks.
		let prepared: PreparedSignature | undefined;
		let unreadable: unknown;
		if (asc !== undefined) {
			prepared = await prepareSignature(asc, fileName, trusted).catch((error: unknown) => {
				unreadable = error;
				return undefined;
			});
		}

		const digests = await hashFile(file, prepared);
		if (digests.sha512 !== entry.sha512) {
			return `sha512 differs from the manifest (the file changed on disk)`;
		}

		if (sidecar === undefined) {
			return '.sha512 is missing';
		}

		if (parseSha512Sidecar(sidecar, fileName) !== digests.sha512) {
			return '.sha512 does not match the file';
		}

		if (!prepared) {
			return asc === undefined ? '.asc is missing' : describeError(unreadable);
		}

		await checkSignature(prepared, digests, file, trusted);
		return undefined;
	} catch (error) {
		return describeError(error);
	}
}

/** Move an artifact and its sidecars out of the served tree: artifact first, as prune does. */
async function quarantine(mirror: Layout, folder: string, relative: string): Promise<void> {
	for (const file of artifactFiles(relative)) {
		const target = path.join(folder, ...file.split('/'));
		await mkdir(path.dirname(target), {recursive: true});
		await rename(treePath(mirror, file), target).catch((error: NodeJS.ErrnoException) => {
			if (error.code !== 'ENOENT') {
				throw error;
			}
		});
	}
}

/** Check the whole mirror; repair when asked. */
export async function verifyMirror(
	options: VerifyOptions,
	emit: EventSink = () => undefined,
): Promise<VerifyReport> {
	const mirror = layout(options.sync.dir);
	const trusted = await loadTrustedKeys(options.sync.trustedKeyPaths);
	const problems: Problem[] = [];
	const bad: ArtifactRef[] = [];
	let checked = 0;
	let quarantineDir: string | undefined;
	const lock = await acquireLock(mirror.lock);
	try {
		const {manifest, warning} = await readManifest(mirror);
		if (warning) {
			problems.push({path: '.mirror/manifest.json', problem: warning});
		}

		const entries = Object.values(manifest.files).sort((a, b) => a.path.localeCompare(b.path));
		const limit = pLimit(4);
		await Promise.all(
			entries.map((entry) =>
				limit(async () => {
					const problem = await checkArtifact(mirror, entry, trusted);
					checked++;
					options.onChecked?.(checked, entries.length);
					if (problem) {
						problems.push({path: entry.path, problem});
						const kind = classifyPath(entry.path);
						if (kind?.kind === 'artifact') {
							bad.push(kind.ref);
						}
					}
				}),
			),
		);

		for (const name of keyFiles) {
			if (!manifest.keys[name]) {
				continue;
			}

			checked++;
			const text = await readFile(treePath(mirror, name), 'utf8').catch(() => undefined);
			if (text === undefined) {
				problems.push({path: name, problem: 'missing from the tree'});
				continue;
			}

			try {
				const {untrusted} = await checkKeyFile(text, trusted);
				if (untrusted.length > 0) {
					problems.push({path: name, problem: `holds key ${untrusted.join(', ')}, which is not trusted`});
				}
			} catch (error) {
				problems.push({path: name, problem: `not a readable PGP key (${describeError(error)})`});
			}
		}

		problems.sort((a, b) => a.path.localeCompare(b.path));
		if (!options.repair || bad.length === 0) {
			return {checked, problems, repaired: [], quarantined: [], quarantineDir: undefined};
		}

		quarantineDir = path.join(mirror.state, 'quarantine', new Date().toISOString().replaceAll(':', '-'));
		for (const ref of bad) {
			await quarantine(mirror, quarantineDir, ref.path);
			delete manifest.files[ref.path];
		}

		await writeManifest(mirror, manifest);
	} finally {
		await lock.release();
	}

	// sync takes the lock itself; it fetches exactly the quarantined artifacts.
	const refetched = new Set<string>();
	try {
		await sync({...options.sync, only: bad, dryRun: false}, (event) => {
			if (event.type === 'published') {
				refetched.add(event.path);
			}

			emit(event);
		});
	} catch (error) {
		problems.push({path: '(repair)', problem: `could not fetch again: ${describeError(error)}`});
	}

	const repaired = bad.map((ref) => ref.path).filter((file) => refetched.has(file));
	const quarantined = bad.map((ref) => ref.path).filter((file) => !refetched.has(file));
	for (const file of repaired) {
		for (const moved of artifactFiles(file)) {
			await rm(path.join(quarantineDir, ...moved.split('/')), {force: true});
		}
	}

	return {
		checked,
		problems,
		repaired,
		quarantined,
		quarantineDir: quarantined.length > 0 ? quarantineDir : undefined,
	};
}
