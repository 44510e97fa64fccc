/**
What the mirror holds, as the pages and APIs show it: the manifest and status that
sync writes atomically, re-read only when their files change (one stat each per
request), so a finished sync shows up without a restart.
*/
import {constants} from 'node:fs';
import {access, readdir, stat} from 'node:fs/promises';
import semver from 'semver';
import {getProduct, isMutableVersion, platforms} from '../agent/catalog.js';
import type {Layout} from '../store/layout.js';
import {type Manifest, type ManifestEntry, readManifest} from '../store/manifest.js';
import {readStatus, type Status} from '../store/status.js';

/** One version of one product (or its FIPS build) and its files by platform. */
export type VersionRow = {
	readonly version: string;
	/** SNAPSHOTs and prereleases: upstream may rebuild them under the same name. */
	readonly mutable: boolean;
	readonly files: ReadonlyMap<string, ManifestEntry>;
};

/** A product as the catalogue shows it: versions newest first against platforms. */
export type ProductGroup = {
	/** `elastic-agent`, or `elastic-agent-fips` for FIPS builds. */
	readonly id: string;
	readonly product: string;
	readonly fips: boolean;
	readonly folder: string;
	/** Platforms present in any version, in catalog order. */
	readonly platforms: readonly string[];
	readonly versions: readonly VersionRow[];
};

/** One consistent view of the mirror. */
export type Snapshot = {
	readonly manifest: Manifest;
	readonly status: Status;
	/** Set when the manifest could not be read. */
	readonly warning: string | undefined;
	readonly groups: readonly ProductGroup[];
	/** Every version present, oldest first (as artifacts-api lists them). */
	readonly versions: readonly string[];
	/** Artifacts by tree path. */
	readonly byPath: ReadonlyMap<string, ManifestEntry>;
	/** Total size of the artifacts. */
	readonly bytes: number;
};

/** The cached reader. */
export type MirrorIndex = {
	/** The current view; re-reads the state files only when they changed. */
	readonly snapshot: () => Promise<Snapshot>;
	/** Resolves when the mirror can be read now; rejects with the reason otherwise. */
	readonly check: () => Promise<void>;
};

const platformOrder = new Map(platforms.map((platform, index) => [platform.id, index]));
const productOrder = new Map(
	['elastic-agent', 'fleet-server', 'apm-server', 'endpoint-security'].map((n, i) => [n, i]),
);

/**
Versions sorted oldest first by semver (build metadata too), each parsed once: a
comparator that parses both sides costs seconds on a mirror of 100,000 artifacts.
*/
function sortVersions(versions: Iterable<string>): string[] {
	const parsed = [...new Set(versions)].map((version) => ({version, semver: semver.parse(version)}));
	return parsed
		.sort((a, b) =>
			a.semver && b.semver ? a.semver.compareBuild(b.semver) : semver.compareBuild(a.version, b.version),
		)
		.map((item) => item.version);
}

/**
Group manifest entries per product (FIPS apart), newest version first. Pure.
`rank` (every version's place in the sorted list, when the caller has it) orders
each product's versions without parsing them again.
*/
export function groupArtifacts(
	entries: Iterable<ManifestEntry>,
	rank?: ReadonlyMap<string, number>,
): ProductGroup[] {
	const groups = new Map<
		string,
		{product: string; fips: boolean; rows: Map<string, Map<string, ManifestEntry>>}
	>();
	for (const entry of entries) {
		const id = entry.fips ? `${entry.product}-fips` : entry.product;
		let group = groups.get(id);
		if (!group) {
			group = {product: entry.product, fips: entry.fips, rows: new Map()};
			groups.set(id, group);
		}

		let row = group.rows.get(entry.version);
		if (!row) {
			row = new Map();
			group.rows.set(entry.version, row);
		}

		row.set(entry.platform, entry);
	}

	const result: ProductGroup[] = [];
	for (const [id, group] of groups) {
		const present = new Set<string>();
		for (const row of group.rows.values()) {
			for (const platform of row.keys()) {
				present.add(platform);
			}
		}

		result.push({
			id,
			product: group.product,
			fips: group.fips,
			folder: getProduct(group.product)?.folder ?? group.product,
			platforms: [...present].sort((a, b) => (platformOrder.get(a) ?? 99) - (platformOrder.get(b) ?? 99)),
			versions: (rank
				? [...group.rows.keys()].sort((a, b) => (rank.get(b) ?? -1) - (rank.get(a) ?? -1))
				: sortVersions(group.rows.keys()).reverse()
			).map((version) => ({
				version,
				mutable: isMutableVersion(version),
				files: group.rows.get(version) ?? new Map(),
			})),
		});
	}

	const order = (group: ProductGroup) => productOrder.get(group.product) ?? 50;
	return result.sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
}

async function signature(file: string): Promise<string> {
	try {
		const info = await stat(file);
		return `${info.ino}:${info.size}:${info.mtimeMs}`;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return 'absent';
		}

		throw error;
	}
}

/** The view of one manifest and status. Pure. */
export function buildSnapshot(manifest: Manifest, status: Status, warning: string | undefined): Snapshot {
	const artifacts = Object.values(manifest.files);
	const versions = sortVersions(artifacts.map((entry) => entry.version));
	return {
		manifest,
		status,
		warning,
		groups: groupArtifacts(artifacts, new Map(versions.map((version, index) => [version, index]))),
		versions,
		byPath: new Map(artifacts.map((entry) => [entry.path, entry])),
		bytes: artifacts.reduce((sum, entry) => sum + entry.size, 0),
	};
}

/** A cached reader of the mirror at `mirror`. */
export function createMirrorIndex(mirror: Layout): MirrorIndex {
	let current: {key: string; snapshot: Snapshot} | undefined;
	let loading: {key: string; promise: Promise<Snapshot>} | undefined;
	let checking: Promise<[string, string]> | undefined;

	const load = async (): Promise<Snapshot> => {
		const [{manifest, warning}, status] = await Promise.all([readManifest(mirror), readStatus(mirror)]);
		return buildSnapshot(manifest, status, warning);
	};

	return {
		async check() {
			try {
				await access(mirror.root, constants.R_OK | constants.X_OK);
				await readdir(mirror.root);
			} catch (error) {
				throw new Error('the mirror directory is not readable', {cause: error});
			}
		},
		async snapshot() {
			// Requests that arrive while the state files are being stat'ed share that stat:
			// under load, two stats per request were a tenth of the server's CPU.
			if (!checking) {
				const check = Promise.all([signature(mirror.manifest), signature(mirror.status)]);
				checking = check;
				check
					.finally(() => {
						checking = undefined;
					})
					.catch(() => undefined);
			}

			const [manifestSignature, statusSignature] = await checking;
			const key = `${manifestSignature}|${statusSignature}`;
			if (current?.key === key) {
				return current.snapshot;
			}

			// Concurrent requests after a change share one read.
			if (loading?.key !== key) {
				const promise = load().then((snapshot) => {
					current = {key, snapshot};
					return snapshot;
				});
				loading = {key, promise};
				promise
					.catch(() => undefined)
					.finally(() => {
						if (loading?.promise === promise) {
							loading = undefined;
						}
					});
			}

			return loading.promise;
		},
	};
}
