/**
Turns the raw path of a request into a path inside the tree, or refuses it. Every
request for a file goes through here, so this is the one place that keeps clients
inside the mirror directory and away from its hidden state.
*/

/** The longest raw path accepted; upstream's longest is under 120 characters. */
export const maxPathLength = 1024;

/** A path inside the tree, as segments and as `a/b/c`. */
export type TreeRequest = {
	readonly segments: readonly string[];
	readonly relative: string;
	/** The raw path ended with `/`. */
	readonly trailingSlash: boolean;
};

/** Why a path was refused: 400 for malformed, 404 for hidden (never say it exists). */
export type Refusal = {readonly status: 400 | 404; readonly message: string};

/**
Decode and check `rawPath` (still percent-encoded, as Koa's `ctx.path` gives it).
Encoded slashes and backslashes, NUL, `.` and `..` segments and overlong paths are
malformed; any segment starting with `.` is hidden. Repeated slashes fold into one,
as the agent's own URL joining does.
*/
export function parseRequestPath(rawPath: string): TreeRequest | Refusal {
	if (rawPath.length > maxPathLength) {
		return {status: 400, message: 'path too long'};
	}

	if (!rawPath.startsWith('/') || /%(2f|5c|00)|\\/i.test(rawPath)) {
		return {status: 400, message: 'malformed path'};
	}

	const segments: string[] = [];
	for (const raw of rawPath.split('/')) {
		let segment: string;
		try {
			segment = decodeURIComponent(raw);
		} catch {
			return {status: 400, message: 'malformed path'};
		}

		if (segment.includes('\0') || segment.includes('/') || segment.includes('\\')) {
			return {status: 400, message: 'malformed path'};
		}

		if (segment === '.' || segment === '..') {
			return {status: 400, message: 'malformed path'};
		}

		if (segment.startsWith('.')) {
			return {status: 404, message: 'not found'};
		}

		if (segment !== '') {
			segments.push(segment);
		}
	}

	return {segments, relative: segments.join('/'), trailingSlash: rawPath.endsWith('/')};
}

/** Whether `parseRequestPath` refused the path. */
export function isRefusal(result: TreeRequest | Refusal): result is Refusal {
	return 'status' in result;
}
