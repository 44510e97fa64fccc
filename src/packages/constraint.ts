/**
Version constraints as Elastic's registry reads them (Masterminds semver v3), on top
of node-semver: `conditions.kibana.version` of a package and the ranges of its
`requires`. The syntaxes agree on what packages write (`^8.13.0 || ^9.0.0`,
`>=7.16.0`, `~1.2`, `1.x`, hyphen ranges); Masterminds also takes commas between ANDed
comparators, which node-semver spells with a space, so commas become spaces.
*/
import semver from 'semver';

const cache = new Map<string, string | null>();

/** The node-semver range for a Masterminds constraint, or null when neither library would take it. */
function nodeRange(constraint: string): string | null {
	let range = cache.get(constraint);
	if (range === undefined) {
		const translated = constraint
			.split('||')
			.map((part) => part.replaceAll(',', ' ').trim())
			.join(' || ');
		range = semver.validRange(translated) === null ? null : translated;
		if (cache.size > 10_000) {
			cache.clear();
		}

		cache.set(constraint, range);
	}

	return range;
}

/** Whether `version` satisfies `constraint`; a constraint no reader understands matches nothing. */
export function satisfiesConstraint(version: string, constraint: string): boolean {
	const range = nodeRange(constraint);
	return range !== null && semver.satisfies(version, range);
}

/** Whether `constraint` is one the mirror can evaluate (a bad value is reported, not guessed at). */
export function isValidConstraint(constraint: string): boolean {
	return nodeRange(constraint) !== null;
}

/** Newest first, by semver precedence (build metadata ignored). */
export function compareVersionsDescending(a: string, b: string): number {
	return semver.rcompare(a, b);
}
