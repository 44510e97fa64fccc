/**
Version selection: parse what the user asked for (exact versions, semver ranges,
`latest`) and resolve it against the versions API. Exact versions need no API call.
*/
import semver from 'semver';
import {UsageError} from './errors.js';

/** One comma-separated item of `--versions`. */
export type VersionSpec =
	| {readonly kind: 'exact'; readonly version: string; readonly text: string}
	| {readonly kind: 'range'; readonly range: string; readonly text: string}
	| {readonly kind: 'latest'; readonly text: string};

/** What resolution produced: versions to mirror, oldest first, and warnings for the user. */
export type Resolution = {
	readonly versions: string[];
	readonly warnings: string[];
};

const exactVersion = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

/**
Parse `--versions`. Throws a UsageError naming the bad item. `source` says where the
value came from (`--versions`, `MIRROR_VERSIONS`, `mirror.yml`).
*/
export function parseVersionSpecs(items: readonly string[], source: string): VersionSpec[] {
	const specs: VersionSpec[] = [];
	for (const raw of items) {
		const text = raw.trim();
		if (text === '') {
			continue;
		}

		if (text.toLowerCase() === 'latest') {
			specs.push({kind: 'latest', text});
			continue;
		}

		// The raw text, not semver's normalized form, which drops build metadata
		// (`8.14.0+build202406201002`) that upstream keeps in file names.
		const exact = exactVersion.exec(text)?.[1];
		if (exact && semver.valid(exact)) {
			specs.push({kind: 'exact', version: exact, text});
			continue;
		}

		if (semver.validRange(text)) {
			specs.push({kind: 'range', range: text, text});
			continue;
		}

		throw new UsageError(
			`invalid version "${text}" in ${source}: expected an exact version (9.1.0), a range (9.1.x, ">=8.17.0 <9") or latest`,
		);
	}

	if (specs.length === 0) {
		throw new UsageError(`no versions selected: set --versions (or MIRROR_VERSIONS), e.g. --versions latest`);
	}

	return specs;
}

/** Whether resolving these specs needs the versions API. */
export function needsVersionList(specs: readonly VersionSpec[]): boolean {
	return specs.some((spec) => spec.kind !== 'exact');
}

function isRelease(version: string): boolean {
	return !version.includes('-') && !version.includes('+');
}

/**
Resolve specs against the versions the API lists. Ranges and `latest` skip
prereleases, SNAPSHOTs and build-tagged versions unless a range names a prerelease
(semver's own rule); exact versions are taken as given.
*/
export function resolveVersions(specs: readonly VersionSpec[], available: readonly string[]): Resolution {
	const chosen = new Set<string>();
	const warnings: string[] = [];
	const valid = available.filter((version) => semver.valid(version));
	for (const spec of specs) {
		switch (spec.kind) {
			case 'exact': {
				chosen.add(spec.version);
				break;
			}

			case 'latest': {
				const newest = semver.rsort(valid.filter((version) => isRelease(version)))[0];
				if (newest) {
					chosen.add(newest);
				} else {
					warnings.push('latest: the versions API lists no release');
				}

				break;
			}

			case 'range': {
				const namesPrerelease = spec.range.includes('-');
				const matches = valid.filter(
					(version) =>
						(namesPrerelease || isRelease(version)) &&
						!version.includes('+') &&
						semver.satisfies(version, spec.range),
				);
				if (matches.length === 0) {
					warnings.push(`range "${spec.text}" matches no version the versions API lists`);
				}

				for (const version of matches) {
					chosen.add(version);
				}

				break;
			}
		}
	}

	return {versions: [...chosen].sort((a, b) => semver.compareBuild(a, b)), warnings};
}

/**
Parse a versions API reply (`{"versions": [...]}`), as artifacts-api.elastic.co and
this project's server give it. Throws on anything else.
*/
export function parseVersionList(body: string): string[] {
	let data: unknown;
	try {
		data = JSON.parse(body);
	} catch {
		throw new Error('the versions API did not answer JSON');
	}

	const versions = (data as {versions?: unknown} | null)?.versions;
	if (!Array.isArray(versions)) {
		throw new Error('the versions API answer has no "versions" list');
	}

	return versions.filter((version): version is string => typeof version === 'string');
}
