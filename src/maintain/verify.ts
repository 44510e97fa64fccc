/**
verify: re-check everything the mirror serves, the way sync checked it on the way
in (size, sha512 against the manifest and the `.sha512` line, PGP signature against
the trusted keys, key files hold only trusted keys). With repair, bad artifacts are
moved out of the served tree into a quarantine folder and fetched again.
*/
import pLimit from 'p-limit';
import {type ArtifactRef, artifactFiles, classifyPath, keyFiles} from '../agent/catalog.js';
import {type SyncOptions, sync} from '../agent/sync.js';
import {describeError} from '../errors.js';
import type {EventSink} from '../mirror/events.js';
import type {ManifestEntry} from '../store/manifest.js';
import {openStore, withLockedStore, withReadStore} from '../store/open.js';
import type {MirrorStore} from '../store/store.js';
import {
	checkKeyFile,
	checkSignature,
	hashStream,
	loadTrustedKeys,
	type PreparedSignature,
	parseSha512Sidecar,
	prepareSignature,
	type TrustedKeys,
} from '../trust/verify.js';
import {checkTree, type Problem} from './unknown.js';

export type {Problem} from './unknown.js';

/** What verify found and did. */
export type VerifyReport = {
	readonly checked: number;
	readonly problems: readonly Problem[];
	/** Artifacts fetched again and verified. */
	readonly repaired: readonly string[];
	/** Links verify --repair removed from the tree (what they pointed to is untouched). */
	readonly removed: readonly string[];
	/** Artifacts moved out of the tree that could not be fetched again (folder given). */
	readonly quarantined: readonly string[];
	/** Where quarantined files are: a folder, or an s3:// prefix. */
	readonly quarantineDir: string | undefined;
};

/** Options: the sync options give the upstream for repairs. */
export type VerifyOptions = {
	readonly sync: SyncOptions;
	readonly repair: boolean;
	readonly onChecked?: ((done: number, total: number) => void) | undefined;
};

async function checkArtifact(
	target: MirrorStore,
	entry: ManifestEntry,
	trusted: TrustedKeys,
): Promise<string | undefined> {
	const fileName = entry.path.slice(entry.path.lastIndexOf('/') + 1);
	try {
		const info = await target.stat(entry.path);
		if (!info) {
			return 'missing from the tree';
		}

		if (info.size !== entry.size) {
			return `size is ${info.size}, the manifest says ${entry.size}`;
		}

		const [sidecar, asc] = await Promise.all([
			target.readFile(`${entry.path}.sha512`).then((data) => data?.toString('utf8')),
			target.readFile(`${entry.path}.asc`).then((data) => data?.toString('utf8')),
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

		const digests = await hashStream(await target.openRead(entry.path), prepared);
		if (digests.sha512 !== entry.sha512) {
			return `sha512 differs from the manifest (the file changed after it was published)`;
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

		await checkSignature(prepared, digests, () => target.openRead(entry.path), trusted);
		return undefined;
	} catch (error) {
		return describeError(error);
	}
}

/** Check the whole mirror; repair when asked. */
export async function verifyMirror(
	options: VerifyOptions,
	emit: EventSink = () => undefined,
): Promise<VerifyReport> {
	const trusted = await loadTrustedKeys(options.sync.trustedKeyPaths);
	const warn = (message: string) => emit({type: 'warning', message});
	const stamp = new Date().toISOString().replaceAll(':', '-');
	const problems: Problem[] = [];
	const bad: ArtifactRef[] = [];
	const removed: string[] = [];
	let checked = 0;
	const check = async (target: MirrorStore): Promise<string | undefined> => {
		const {manifest, warning} = await target.readManifest();
		if (warning) {
			problems.push({path: '.mirror/manifest.json', problem: warning});
		}

		const entries = Object.values(manifest.files).sort((a, b) => a.path.localeCompare(b.path));
		const limit = pLimit(4);
		await Promise.all(
			entries.map((entry) =>
				limit(async () => {
					const problem = await checkArtifact(target, entry, trusted);
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

		const tree = await checkTree(target, manifest);
		problems.push(...tree.problems);
		for (const ref of tree.badArtifacts) {
			if (!bad.some((known) => known.path === ref.path)) {
				bad.push(ref);
			}
		}

		// A key file in the tree is checked whether or not the manifest lists it: it is served.
		for (const name of keyFiles) {
			if (!manifest.keys[name] && !tree.keysPresent.has(name)) {
				continue;
			}

			checked++;
			const text = (await target.readFile(name))?.toString('utf8');
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
		if (!options.repair) {
			// Verify took no lock: a sync that started meanwhile may have been replacing a file.
			if (problems.length > 0) {
				await target.assertUnlocked().catch(() => {
					warn('a sync started while verify ran; a problem may be a file it was replacing: verify again');
				});
			}

			return undefined;
		}

		for (const link of tree.strayLinks) {
			await target.remove(link);
			removed.push(link);
		}

		if (bad.length === 0) {
			return undefined;
		}

		// The artifact goes first, as prune does, so no reader finds one without its sidecars.
		const quarantine = target.quarantine(stamp);
		for (const ref of bad) {
			for (const file of artifactFiles(ref.path)) {
				await quarantine.move(file);
			}

			delete manifest.files[ref.path];
		}

		await target.writeManifest(manifest);
		return quarantine.where;
	};
	// Without --repair verify only reads: no lock, nothing written (a read-only mirror works).
	const quarantineDir = options.repair
		? await withLockedStore(options.sync, warn, check, {mustExist: true})
		: await withReadStore(options.sync, warn, check);
	if (quarantineDir === undefined) {
		return {checked, problems, repaired: [], removed, quarantined: [], quarantineDir: undefined};
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
	if (repaired.length > 0) {
		const target = await openStore(options.sync);
		try {
			const quarantine = target.quarantine(stamp);
			for (const file of repaired) {
				for (const moved of artifactFiles(file)) {
					await quarantine.discard(moved);
				}
			}
		} finally {
			target.close();
		}
	}

	return {
		checked,
		problems,
		repaired,
		removed,
		quarantined,
		quarantineDir: quarantined.length > 0 ? quarantineDir : undefined,
	};
}
