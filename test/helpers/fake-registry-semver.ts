/**
The version rules of the Elastic Package Registry, which uses Masterminds/semver v3 (go.mod pins
v3.5.0): how it parses the `kibana.version` parameter (`NewVersion`, loose: `8`, `8.13`, `v8.13.0`)
and how a manifest's `conditions.kibana.version` constraint is checked (`Constraints.Check`).
Each Masterminds comparator is translated into node-semver comparators with the same meaning
and a group is evaluated with `includePrerelease`, after Masterminds' own rule: a prerelease
version only passes an OR group that names a prerelease somewhere. See docs/package-registry.md.
*/
import semver from 'semver';

const ops = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const cv =
	String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
	String.raw`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
	String.raw`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const constraintRegex = new RegExp(String.raw`^\s*(${ops})\s*(${cv})\s*$`);
const rangeRegex = new RegExp(String.raw`\s*(${cv})\s+-\s+(${cv})\s*`, 'g');
const findRegex = new RegExp(String.raw`(${ops})\s*(${cv})`, 'g');
const validRegex = new RegExp(String.raw`^(\s*(${ops})\s*(${cv})\s*)((?:\s+|,\s*)(${ops})\s*(${cv})\s*)*$`);
const looseVersion =
	/^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;

/** Masterminds `NewVersion` (coercing): the normalized `M.m.p[-pre]`, or the error text Go prints. */
export function parseLooseVersion(text: string): {version: string} | {error: string} {
	const m = looseVersion.exec(text);
	if (!m) {
		return {error: 'invalid semantic version'};
	}
	const pre = m[5] ?? '';
	if (pre.split('.').some((part) => /^[0-9]+$/.test(part) && part.length > 1 && part.startsWith('0'))) {
		return {error: 'version segment starts with 0'};
	}
	const number = (part: string | undefined) => (part ? BigInt(part.replace(/^\./, '')).toString() : '0');
	return {version: `${number(m[1])}.${number(m[2])}.${number(m[3])}${pre ? `-${pre}` : ''}`};
}

type Comparator = {
	op: string;
	major: number;
	minor: number;
	patch: number;
	pre: string;
	minorDirty: boolean;
	patchDirty: boolean;
	dirty: boolean;
};

const isX = (part: string | undefined) => part === 'x' || part === 'X' || part === '*';

function parseComparator(text: string): Comparator {
	const m = constraintRegex.exec(text);
	if (!m) {
		throw new Error(`improper constraint: ${JSON.stringify(text)}`);
	}
	const op = m[1] ?? '';
	const majorPart = m[3];
	const minorPart = m[4]?.slice(1);
	const patchPart = m[5]?.slice(1);
	const pre = m[7] ?? '';
	const base = {op, pre, minorDirty: false, patchDirty: false, dirty: false};
	if (isX(majorPart) || !majorPart) {
		return {...base, major: 0, minor: 0, patch: 0, dirty: true};
	}
	if (isX(minorPart) || !minorPart) {
		return {...base, major: Number(majorPart), minor: 0, patch: 0, minorDirty: true, dirty: true};
	}
	if (isX(patchPart) || !patchPart) {
		return {
			...base,
			major: Number(majorPart),
			minor: Number(minorPart),
			patch: 0,
			patchDirty: true,
			dirty: true,
		};
	}
	return {...base, major: Number(majorPart), minor: Number(minorPart), patch: Number(patchPart)};
}

/** node-semver alternatives (OR) of comparator sets (AND) meaning what one Masterminds comparator means. */
function translate(c: Comparator): string[] {
	const con = `${c.major}.${c.minor}.${c.patch}${c.pre ? `-${c.pre}` : ''}`;
	const nextMajor = `<${c.major + 1}.0.0-0`;
	const nextMinor = `<${c.major}.${c.minor + 1}.0-0`;
	const tilde = () => {
		if (c.major === 0 && c.minor === 0 && c.patch === 0 && !c.minorDirty && !c.patchDirty) {
			return ['>=0.0.0-0'];
		}
		return [`>=${con} ${c.minorDirty ? nextMajor : nextMinor}`];
	};
	switch (c.op) {
		case '':
		case '=':
			return c.dirty ? tilde() : [`=${con}`];
		case '~':
		case '~>':
			return tilde();
		case '^':
			if (c.major > 0 || c.minorDirty) {
				return [`>=${con} ${nextMajor}`];
			}
			if (c.minor > 0 || c.patchDirty) {
				return [`>=${con} ${nextMinor}`];
			}
			return [`>=${con} <0.0.${c.patch + 1}-0`];
		case '>':
			if (c.minorDirty) {
				return [`>=${c.major + 1}.0.0-0`];
			}
			if (c.patchDirty) {
				return [`>=${c.major}.${c.minor + 1}.0-0`];
			}
			return [`>${con}`];
		case '<':
			return [`<${con}`];
		case '>=':
		case '=>':
			return [`>=${con}`];
		case '<=':
		case '=<':
			if (c.minorDirty) {
				return [nextMajor];
			}
			if (c.patchDirty || c.dirty) {
				return [c.dirty && !c.patchDirty ? '<0.1.0-0' : nextMinor];
			}
			return [`<=${con}`];
		case '!=':
			if (c.minorDirty) {
				return [`<${c.major}.0.0-0`, `>=${c.major + 1}.0.0-0`];
			}
			if (c.patchDirty) {
				return [`<${c.major}.${c.minor}.0-0`, `>=${c.major}.${c.minor + 1}.0-0`];
			}
			return [`<${con}`, `>${con}`];
		default:
			throw new Error(`improper constraint: ${JSON.stringify(c.op)}`);
	}
}

/** A parsed constraint: OR groups, each the node-semver range it means and whether it names a prerelease. */
export type Constraint = readonly {readonly range: string; readonly hasPre: boolean}[];

/** Masterminds `NewConstraint`; throws `improper constraint: "..."` like Go does. */
export function parseConstraint(text: string): Constraint {
	const rewritten = text.replace(
		rangeRegex,
		(_all, low: string, ...rest: string[]) => `>= ${low}, <= ${rest[9]} `,
	);
	return rewritten.split('||').map((segment) => {
		if (!validRegex.test(segment)) {
			throw new Error(`improper constraint: ${JSON.stringify(segment)}`);
		}
		const found = segment.match(findRegex) ?? [segment];
		const comparators = found.map(parseComparator);
		let sets = [''];
		for (const comparator of comparators) {
			sets = sets.flatMap((set) =>
				translate(comparator).map((alternative) => `${set} ${alternative}`.trim()),
			);
		}
		return {range: sets.join(' || '), hasPre: comparators.some((comparator) => comparator.pre !== '')};
	});
}

/** Masterminds `Constraints.Check` for an already normalized version. */
export function satisfies(version: string, constraint: Constraint): boolean {
	const isPre = (semver.prerelease(version) ?? []).length > 0;
	return constraint.some(
		(group) => (group.hasPre || !isPre) && semver.satisfies(version, group.range, {includePrerelease: true}),
	);
}
