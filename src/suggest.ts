/**
"Did you mean" for names users type: products, platforms, flags and config keys.
*/

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
	const row = Array.from({length: b.length + 1}, (_, index) => index);
	for (let i = 1; i <= a.length; i++) {
		let previous = row[0] ?? 0;
		row[0] = i;
		for (let j = 1; j <= b.length; j++) {
			const current = row[j] ?? 0;
			row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
			previous = current;
		}
	}

	return row[b.length] ?? 0;
}

/** Synonyms users type for architectures; `linux-amd64` means `linux-x86_64`. */
const architectureAliases: Record<string, string[]> = {
	x86_64: ['amd64', 'x64', 'x86-64', 'x86_64'],
	amd64: ['x86_64', 'x64', 'amd64'],
	arm64: ['aarch64', 'arm64'],
	aarch64: ['arm64', 'aarch64'],
};

/**
The closest known name to `input`, or undefined when nothing is close. Knows that
amd64/x86_64 and arm64/aarch64 are the same machine and that upstream uses dashes.
*/
export function suggest(input: string, candidates: readonly string[]): string | undefined {
	const normalized = input.toLowerCase().replaceAll('_', '-');
	for (const candidate of candidates) {
		const [head, ...rest] = candidate.split('-');
		const architecture = rest.join('-');
		for (const alias of architectureAliases[architecture] ?? []) {
			if (`${head}-${alias}`.replaceAll('_', '-') === normalized) {
				return candidate;
			}
		}
	}

	let best: string | undefined;
	let bestDistance = Number.POSITIVE_INFINITY;
	for (const candidate of candidates) {
		const d = distance(normalized, candidate.replaceAll('_', '-'));
		if (d < bestDistance) {
			best = candidate;
			bestDistance = d;
		}
	}

	return bestDistance <= Math.max(2, Math.floor(input.length / 4)) ? best : undefined;
}
