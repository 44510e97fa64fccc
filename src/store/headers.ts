/**
Content types and cache lifetimes of the files in the tree. Fixed here rather than looked up by the
last extension, because `.tar.gz` is one format and sidecars must never be guessed
as something a browser renders or a client decompresses.
*/
import {classifyPath, isMutableVersion, keyFiles, type PathKind} from '../agent/catalog.js';
import {isDefendArtifactPath} from '../defend/catalog.js';
import {parsePackagePath} from '../packages/catalog.js';

const byEnding: ReadonlyArray<readonly [string, string]> = [
	['.tar.gz', 'application/gzip'],
	// A package signature: what Elastic's registry image answers (Debian's mime.types).
	['.zip.sig', 'application/pgp-signature'],
	['.zip', 'application/zip'],
	['.asc', 'application/pgp-signature'],
	['.sha512', 'text/plain; charset=utf-8'],
	// IANA registers the Debian one; RPM and MSI have no IANA entry, so these are
	// the names shared-mime-info and most servers use.
	['.deb', 'application/vnd.debian.binary-package'],
	['.rpm', 'application/x-rpm'],
	['.msi', 'application/x-msi'],
	['.json', 'application/json; charset=utf-8'],
	['.txt', 'text/plain; charset=utf-8'],
];

/** The Content-Type for a file in the tree, by its name. */
function contentTypeFor(fileName: string): string {
	if ((keyFiles as readonly string[]).includes(fileName)) {
		// Armored text: readable in a browser, fetched as-is by Fleet Server and agents.
		return 'text/plain; charset=utf-8';
	}

	for (const [ending, type] of byEnding) {
		if (fileName.endsWith(ending)) {
			return type;
		}
	}

	return 'application/octet-stream';
}

/** Cache-Control for listings, keys, JSON and pages. */
export const shortCache = 'public, max-age=60';

/**
Whether the file never changes under its name: a released version's artifact or
sidecar, a package version's zip or signature, a Defend artifact. SNAPSHOTs are
rebuilt under the same name, often with the same Last-Modified and size; keys, Defend
manifests and other files may be replaced.
*/
export function isImmutableFile(kind: PathKind | undefined, relative = ''): boolean {
	if (isPackageFile(relative) || isDefendArtifactPath(relative)) {
		return true;
	}

	return (kind?.kind === 'artifact' || kind?.kind === 'sidecar') && !isMutableVersion(kind.ref.version);
}

/** A package version's zip or signature: never changed once published (the registry refuses to replace one). */
function isPackageFile(relative: string): boolean {
	return relative.startsWith('epr/') && parsePackagePath(relative.replace(/\.sig$/, '')) !== undefined;
}

/** A version's files never change upstream; SNAPSHOTs are rebuilt under the same name. */
function cacheControlFor(relative: string, kind: PathKind | undefined): string {
	if (relative.startsWith('downloads/endpoint/manifest/')) {
		// A Defend manifest changes upstream about daily under the same name: revalidate every time.
		return 'public, no-cache';
	}

	if (isImmutableFile(kind, relative)) {
		return 'public, max-age=31536000, immutable';
	}

	if (kind?.kind === 'artifact' || kind?.kind === 'sidecar') {
		return 'public, no-cache';
	}

	return shortCache;
}

/**
Content-Type and Cache-Control of the tree file at `relative` (`a/b/name`), the same
whether the server sends it or the object store keeps it with the object. `kind` is
`classifyPath(relative)`, for callers that have it already.
*/
export function treeFileHeaders(
	relative: string,
	kind: PathKind | undefined = classifyPath(relative),
): {contentType: string; cacheControl: string} {
	return {
		contentType: contentTypeFor(relative.slice(relative.lastIndexOf('/') + 1)),
		cacheControl: cacheControlFor(relative, kind),
	};
}
