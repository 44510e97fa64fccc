/**
What an Elastic Package Registry publishes and where: package names, versions, the
paths of a version's zip, signature and package info, and the package selection a
user writes. Pure data and functions; nothing here touches the network or the disk.
*/
import semver from 'semver';
import {UsageError} from '../errors.js';

/** What `--packages` asks for: every package, one package's compatible versions, or one exact version. */
export type PackageRequest =
	| {readonly kind: 'all'}
	| {readonly kind: 'name'; readonly name: string}
	| {readonly kind: 'pin'; readonly name: string; readonly version: string};

/** A package name as the registry routes it (`/epr/{packageName:[a-z0-9_]+}-...`). */
export const packageNamePattern = /^[a-z0-9_]+$/;

/** Whether `version` is a version the registry accepts (strict semver, no leading `v`). */
export function isPackageVersion(version: string): boolean {
	return semver.valid(version) === version;
}

/**
Parse `--packages` values: `nginx`, `nginx@1.2.3`, or `all`. A bad value throws a
UsageError that names it.
*/
export function parsePackageRequests(values: readonly string[], label: string): PackageRequest[] {
	const requests: PackageRequest[] = [];
	for (const raw of values) {
		const value = raw.trim();
		if (value === 'all') {
			requests.push({kind: 'all'});
			continue;
		}

		const [name = '', version, ...rest] = value.split('@');
		if (!packageNamePattern.test(name) || rest.length > 0) {
			throw new UsageError(
				`invalid ${label} "${value}": expected a package name (lower-case letters, digits, _), name@version, or all`,
			);
		}

		if (version === undefined) {
			requests.push({kind: 'name', name});
		} else if (isPackageVersion(version)) {
			requests.push({kind: 'pin', name, version});
		} else {
			throw new UsageError(`invalid ${label} "${value}": "${version}" is not a package version like 1.2.3`);
		}
	}

	if (requests.length === 0) {
		throw new UsageError(`invalid ${label}: no package given`);
	}

	return requests;
}

/** The text a request is written as. */
export function requestText(request: PackageRequest): string {
	return request.kind === 'all'
		? 'all'
		: request.kind === 'name'
			? request.name
			: `${request.name}@${request.version}`;
}

/** The tree paths of one package version. */
export type PackagePaths = {
	/** `epr/<n>/<n>-<v>.zip`, as the registry serves it; the version's key in the manifest. */
	readonly zip: string;
	/** The detached signature, `<zip>.sig`. */
	readonly signature: string;
	/** The package info (`/package/<n>/<v>/`) as upstream answered it, kept beside the zip. */
	readonly info: string;
};

/** Where a package version's files live in the tree. */
export function packagePaths(name: string, version: string): PackagePaths {
	const zip = `epr/${name}/${name}-${version}.zip`;
	return {zip, signature: `${zip}.sig`, info: `epr/${name}/${name}-${version}.json`};
}

/** Every tree file of a package version, in the order a remover takes them (zip first, info last). */
export function packageFiles(zipPath: string): string[] {
	const base = zipPath.replace(/\.zip$/, '');
	return [zipPath, `${zipPath}.sig`, `${base}.json`];
}

/** The name and version of a zip path (`epr/<n>/<n>-<v>.zip`), or undefined when it is not one. */
export function parsePackagePath(zipPath: string): {name: string; version: string} | undefined {
	const match = /^epr\/([a-z0-9_]+)\/\1-([^/]+)\.zip$/.exec(zipPath);
	if (!match?.[1] || !match[2] || !isPackageVersion(match[2])) {
		return undefined;
	}

	return {name: match[1], version: match[2]};
}

/** The default upstream registry. */
export const defaultRegistry = 'https://epr.elastic.co';
