/**
What the manifest does not account for. The server serves every file of the tree,
so a file dropped in by hand is served although nothing checked it: verify reports
it. Links are reported too: the server does not follow them (they could point out
of the tree or into `.mirror/`), so a link is at best a broken download.
*/
import {type ArtifactRef, artifactFiles, classifyPath, keyFiles} from '../agent/catalog.js';
import {isImagePath, parseBlobPath} from '../images/catalog.js';
import {packageFiles} from '../packages/catalog.js';
import type {ManifestView} from '../store/manifest.js';
import type {MirrorStore} from '../store/store.js';

/** One thing found wrong. */
export type Problem = {readonly path: string; readonly problem: string};

/** What the walk found. */
export type TreeFindings = {
	readonly problems: Problem[];
	/** Links on published artifacts or their sidecars: repair moves the artifact out and fetches it again. */
	readonly badArtifacts: ArtifactRef[];
	/** Package versions (zip paths) with a link among their files: repair moves the version out. */
	readonly badPackages: string[];
	/** Defend manifest zips and artifacts that are links: repair moves them out (with the manifests naming them). */
	readonly badDefend: string[];
	/** Listed image blobs (digests) that are links: repair moves them out and fetches the tags reaching them again. */
	readonly badImages: string[];
	/** Links on nothing the mirror published: repair removes the link (never its target). */
	readonly strayLinks: string[];
	/** Key files present in the tree (as files). */
	readonly keysPresent: Set<string>;
};

/** Walk the served tree and report every entry the manifest does not account for. */
export async function checkTree(store: MirrorStore, manifest: ManifestView): Promise<TreeFindings> {
	const owner = new Map<string, string>();
	for (const entry of Object.values(manifest.files)) {
		for (const file of artifactFiles(entry.path)) {
			owner.set(file, entry.path);
		}
	}

	const packageOwner = new Map<string, string>();
	for (const entry of Object.values(manifest.packages)) {
		for (const file of packageFiles(entry.path)) {
			packageOwner.set(file, entry.path);
		}
	}

	const defend = new Set([
		...Object.values(manifest.defend.versions).map((entry) => entry.path),
		...Object.keys(manifest.defend.artifacts),
	]);
	const findings: TreeFindings = {
		problems: [],
		badArtifacts: [],
		badPackages: [],
		badDefend: [],
		badImages: [],
		strayLinks: [],
		keysPresent: new Set(),
	};
	for await (const entry of store.listTree()) {
		const artifact = owner.get(entry.path);
		const version = packageOwner.get(entry.path);
		const listedDefend = defend.has(entry.path);
		const digest = parseBlobPath(entry.path);
		const listedImage = digest !== undefined && manifest.images.blobs[digest] !== undefined;
		if (entry.kind === 'link') {
			const kind = artifact ? classifyPath(artifact) : undefined;
			const repair =
				kind?.kind === 'artifact'
					? 'fetches the artifact again'
					: version
						? 'moves the package version out (sync fetches it again)'
						: listedDefend
							? 'moves it out with the Defend manifests naming it and fetches them again'
							: listedImage
								? 'moves the blob out and fetches the tags reaching it again'
								: 'removes the link (not what it points to)';
			findings.problems.push({
				path: entry.path,
				problem: `is a symbolic link, which the server does not follow; verify --repair ${repair}`,
			});
			if (kind?.kind === 'artifact') {
				findings.badArtifacts.push(kind.ref);
			} else if (version) {
				if (!findings.badPackages.includes(version)) {
					findings.badPackages.push(version);
				}
			} else if (listedDefend) {
				findings.badDefend.push(entry.path);
			} else if (listedImage) {
				findings.badImages.push(digest);
			} else {
				findings.strayLinks.push(entry.path);
			}
		} else if (entry.kind === 'other') {
			findings.problems.push({path: entry.path, problem: 'is not a regular file; remove it by hand'});
		} else if ((keyFiles as readonly string[]).includes(entry.path)) {
			findings.keysPresent.add(entry.path);
		} else if (!artifact && !version && !listedDefend && !listedImage) {
			// Under oci/ as under epr/: sync adopts nothing there, it writes every blob it needs itself.
			findings.problems.push({
				path: entry.path,
				problem:
					entry.path.startsWith('epr/') ||
					entry.path.startsWith('downloads/endpoint/') ||
					isImagePath(entry.path)
						? 'unknown file, not in the manifest, yet served: remove it by hand (verify --repair leaves it)'
						: 'unknown file, not in the manifest, yet served: remove it by hand (verify --repair leaves it; a selected artifact with its sidecars is adopted by the next sync)',
			});
		}
	}

	return findings;
}
