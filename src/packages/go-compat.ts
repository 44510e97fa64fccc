/**
What Elastic's registry (Go) does with the text of a request and of an answer, so
the mirror reads queries and writes JSON the same way: url.ParseQuery,
strconv.ParseBool, Masterminds semver's NewVersion (the lenient parser the
registry uses for `kibana.version`, `agent.version` and `spec.*`), and
encoding/json's Encoder with SetEscapeHTML(false) and a two-space indent.
*/

/** A version as Masterminds' NewVersion reads it. */
export type LooseVersion = {
	readonly major: number;
	readonly minor: number;
	readonly patch: number;
	readonly prerelease: string;
	readonly metadata: string;
};

/** Masterminds' loose pattern: `1`, `1.2`, `v1.2.3`, with prerelease and metadata. */
const loosePattern =
	/^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;

const maxUint64 = 18_446_744_073_709_551_615n;

function segment(text: string): number | string {
	const digits = text.replace(/^\./, '');
	return BigInt(digits) > maxUint64
		? `error parsing version segment: strconv.ParseUint: parsing "${digits}": value out of range`
		: Number(digits);
}

/** Masterminds' NewVersion: the version, or the error text it gives. */
export function parseLooseVersion(text: string): LooseVersion | {error: string} {
	const match = loosePattern.exec(text);
	if (!match) {
		return {error: 'invalid semantic version'};
	}

	const parts = [match[1] ?? '0', match[2] ?? '0', match[3] ?? '0'].map(segment);
	const failed = parts.find((part) => typeof part === 'string');
	if (typeof failed === 'string') {
		return {error: failed};
	}

	const prerelease = match[5] ?? '';
	if (prerelease.split('.').some((part) => /^0[0-9]+$/.test(part))) {
		return {error: 'version segment starts with 0'};
	}

	const [major, minor, patch] = parts as number[];
	return {major: major ?? 0, minor: minor ?? 0, patch: patch ?? 0, prerelease, metadata: match[8] ?? ''};
}

/** The version as node-semver writes it. */
export function versionText(version: LooseVersion): string {
	const core = `${version.major}.${version.minor}.${version.patch}`;
	return `${core}${version.prerelease ? `-${version.prerelease}` : ''}${version.metadata ? `+${version.metadata}` : ''}`;
}

/** strconv.ParseBool: the value, or undefined when Go refuses the text. */
export function parseGoBool(text: string): boolean | undefined {
	if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) {
		return true;
	}

	if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) {
		return false;
	}

	return undefined;
}

function queryUnescape(text: string): string | undefined {
	try {
		return decodeURIComponent(text.replaceAll('+', ' '));
	} catch {
		return undefined;
	}
}

/**
url.ParseQuery as `r.URL.Query()` uses it: pairs split on `&`, a pair with a `;` or a
bad escape dropped, values of a repeated key kept in order.
*/
export function parseGoQuery(rawQuery: string): Map<string, string[]> {
	const values = new Map<string, string[]>();
	for (const pair of rawQuery.split('&')) {
		if (pair === '' || pair.includes(';')) {
			continue;
		}

		const equals = pair.indexOf('=');
		const key = queryUnescape(equals < 0 ? pair : pair.slice(0, equals));
		const value = queryUnescape(equals < 0 ? '' : pair.slice(equals + 1));
		if (key === undefined || value === undefined) {
			continue;
		}

		const list = values.get(key) ?? [];
		list.push(value);
		values.set(key, list);
	}

	return values;
}

/**
`value` as the registry's MarshalJSONPretty writes it: two-space indent, `<>&` left
as they are, U+2028 and U+2029 escaped, and the newline Encoder.Encode ends with.
The control characters JSON.stringify escapes are the ones Go escapes, the same way.
*/
export function goJsonPretty(value: unknown): string {
	return `${JSON.stringify(value, null, 2).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029')}\n`;
}
