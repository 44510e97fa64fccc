/** The results of a run and the Markdown they become. */

/** One measured figure: every repeat, and the median that counts. */
export type Measure = {readonly runs: readonly number[]; readonly median: number; readonly unit: string};

/** One comparison or check against a target. */
export type Result = {
	readonly id: string;
	readonly title: string;
	/** What this project measured. */
	readonly ours: Measure;
	/** The other side of the comparison, when there is one. */
	readonly theirs?: Measure & {readonly label: string};
	/** Further figures worth printing, label → text. */
	readonly extra?: Readonly<Record<string, string>>;
	readonly target: string;
	readonly met: boolean;
};

export function measure(runs: number[], unit: string, median: number): Measure {
	return {runs, median, unit};
}

function figure(value: number, unit: string): string {
	const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
	return `${value.toFixed(digits)} ${unit}`;
}

function runsText(m: Measure): string {
	return m.runs.map((run) => figure(run, '').trim()).join(', ');
}

/** Markdown for the results, one table row per result plus details. */
export function resultsMarkdown(results: readonly Result[]): string {
	const lines = [
		'| # | Benchmark | This project (median) | Other side (median) | Ratio | Target | Met |',
		'|---|---|---|---|---|---|---|',
	];
	for (const result of results) {
		const theirs = result.theirs
			? `${figure(result.theirs.median, result.theirs.unit)} (${result.theirs.label})`
			: '';
		const ratio = result.theirs ? `${(result.ours.median / result.theirs.median).toFixed(2)}x` : '';
		lines.push(
			`| ${result.id} | ${result.title} | ${figure(result.ours.median, result.ours.unit)} | ${theirs} | ${ratio} | ${result.target} | ${result.met ? 'yes' : '**no**'} |`,
		);
	}

	lines.push('', 'Every run, in order:', '');
	for (const result of results) {
		const parts = [`this project: ${runsText(result.ours)} ${result.ours.unit}`];
		if (result.theirs) {
			parts.push(`${result.theirs.label}: ${runsText(result.theirs)} ${result.theirs.unit}`);
		}

		for (const [label, text] of Object.entries(result.extra ?? {})) {
			parts.push(`${label}: ${text}`);
		}

		lines.push(`- **${result.id} ${result.title}**: ${parts.join('; ')}`);
	}

	return lines.join('\n');
}
