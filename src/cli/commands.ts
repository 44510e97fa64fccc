/**
The day-2 commands: export, import, verify, prune, package-paths. Each turns validated config into
one call and a few lines of output, and maps the result to an exit code.
Human lines go to stderr when stdout carries data (export to -), else to stdout.
*/
import process from 'node:process';
import cliProgress from 'cli-progress';
import {exportBundle} from '../bundle/export.js';
import {importBundle} from '../bundle/import.js';
import {concatParts, expandParts} from '../bundle/parts.js';
import {loadExportConfig} from '../config/export.js';
import {loadImportConfig} from '../config/import.js';
import {loadPackagePathsConfig} from '../config/package-paths.js';
import {loadPruneConfig} from '../config/prune.js';
import type {ConfigSources} from '../config/sources.js';
import {loadVerifyConfig} from '../config/verify.js';
import {NothingNewError} from '../errors.js';
import {formatBytes} from '../format.js';
import {blobPath} from '../images/catalog.js';
import {prune} from '../maintain/prune.js';
import {packageBytes} from '../maintain/prune-packages.js';
import {type VerifyOptions, verifyMirror} from '../maintain/verify.js';
import {packagePathsSnippet, writePackagePaths} from '../packages/package-paths.js';
import {parseVersionSpecs} from '../versions.js';

/** Where output goes, and whether a progress bar makes sense. */
export type Output = {
	readonly line: (text: string) => void;
	readonly progress: boolean;
};

function progressBar(enabled: boolean, label: string) {
	if (!enabled) {
		return {update: (_done: number, _total: number) => undefined, stop: () => undefined};
	}

	const bar = new cliProgress.SingleBar(
		{
			format: `${label} [{bar}] {percentage}% {done}/{size}`,
			stream: process.stderr,
			hideCursor: true,
			clearOnComplete: true,
		},
		cliProgress.Presets.shades_classic,
	);
	let started = false;
	return {
		update(done: number, total: number) {
			if (!started) {
				bar.start(total, 0, {done: formatBytes(0), size: formatBytes(total)});
				started = true;
			}

			bar.update(done, {done: formatBytes(done), size: formatBytes(total)});
		},
		stop: () => bar.stop(),
	};
}

/** `export`: exit 0 when the bundle is written. */
export async function runExport(sources: ConfigSources, output: Output): Promise<number> {
	const config = loadExportConfig(sources);
	const bar = progressBar(output.progress, 'exporting');
	try {
		const summary = await exportBundle({
			...config,
			stdout: process.stdout,
			onProgress: bar.update,
			onWarning: (message) => output.line(`warning: ${message}`),
		}).catch((error: unknown) => {
			// A delta export from cron with nothing new is not a failure.
			if (error instanceof NothingNewError) {
				return error.since;
			}

			throw error;
		});
		bar.stop();
		if (typeof summary === 'string') {
			output.line(`nothing new since ${summary}: no bundle written`);
			return 0;
		}

		const where = summary.outputs.length > 0 ? summary.outputs.join(', ') : 'stdout';
		output.line(
			`exported ${summary.artifacts} artifacts${summary.packages > 0 ? ` and ${summary.packages} package versions` : ''}${summary.defend.versions + summary.defend.artifacts > 0 ? `, ${summary.defend.versions} Defend manifests and ${summary.defend.artifacts} Defend artifacts` : ''}${summary.images.tags + summary.images.blobs > 0 ? `, ${summary.images.tags} image tags and ${summary.images.blobs} image blobs` : ''} (${summary.files} files, ${formatBytes(summary.bytes)})${summary.since ? ` published since ${summary.since}` : ''} to ${where}`,
		);
		return 0;
	} finally {
		bar.stop();
	}
}

/** `import`: exit 0 when the bundle verified and is published (or already was); 1 when an image tag was refused. */
export async function runImport(
	sources: ConfigSources,
	inputs: readonly string[],
	output: Output,
): Promise<number> {
	const config = loadImportConfig(sources);
	const fromStdin = inputs.length === 1 && inputs[0] === '-';
	const files = fromStdin ? [] : await expandParts(inputs);
	const bar = progressBar(output.progress, 'importing');
	try {
		const summary = await importBundle({
			...config,
			input: fromStdin ? process.stdin : concatParts(files),
			onProgress: bar.update,
			onWarning: (message) => output.line(`warning: ${message}`),
		});
		bar.stop();
		const {packages} = summary;
		const bytes = formatBytes(summary.bytes);
		// With package versions the size is the whole import's, so it moves in front of both counts.
		output.line(
			packages.published + packages.present > 0
				? `imported (${bytes}): ${summary.published} artifacts published, ${summary.present} already present, ${summary.keys} keys updated; ${packages.published} package versions published, ${packages.present} already present`
				: `imported: ${summary.published} artifacts published (${bytes}), ${summary.present} already present, ${summary.keys} keys updated`,
		);
		if (summary.defend) {
			const {versions, artifacts} = summary.defend;
			output.line(
				`imported Defend protections: ${versions.published} manifests published, ${versions.present} already present; ${artifacts.published} artifacts published, ${artifacts.present} already present`,
			);
		}

		if (summary.images) {
			const {tags, blobs, failed} = summary.images;
			for (const {path, reason} of failed) {
				output.line(`not imported: ${path}: ${reason}`);
			}

			output.line(
				`imported images: ${tags.published} tags published, ${tags.present} already present${failed.length > 0 ? `, ${failed.length} refused` : ''}; ${blobs.published} blobs published, ${blobs.present} already present`,
			);
			return failed.length > 0 ? 1 : 0;
		}

		return 0;
	} finally {
		bar.stop();
	}
}

/** What verify checked: files, then package versions and Defend files when there were any ("3 files, 2 package versions and 19 Defend files"). */
function checkedText(report: {
	checked: number;
	checkedPackages: number;
	checkedDefend: number;
	checkedImages: number;
}): string {
	const parts = [
		`${report.checked - report.checkedPackages - report.checkedDefend - report.checkedImages} files`,
	];
	if (report.checkedPackages > 0) parts.push(`${report.checkedPackages} package versions`);
	if (report.checkedDefend > 0) parts.push(`${report.checkedDefend} Defend files`);
	if (report.checkedImages > 0) parts.push(`${report.checkedImages} image blobs and tags`);
	return parts.length === 1 ? (parts[0] as string) : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/** `verify`: exit 0 when everything checks out (or was repaired), 1 otherwise. */
export async function runVerify(sources: ConfigSources, output: Output): Promise<number> {
	const config = loadVerifyConfig(sources);
	const bar = progressBar(output.progress, 'verifying');
	// Repairs are a sync limited to the quarantined artifacts, package versions and Defend versions.
	const refetch: VerifyOptions['refetch'] = async (only, onlyPackages, emit, defendVersions, onlyImages) => {
		const {sync} = await import('../agent/sync.js');
		const defend =
			defendVersions.length > 0
				? {
						versions: parseVersionSpecs(defendVersions, 'verify --repair'),
						upstream: config.sync.defendUpstream,
					}
				: undefined;
		return sync({...config.sync, only, onlyPackages, onlyImages, defend, dryRun: false}, emit);
	};
	const report = await verifyMirror({...config, refetch, onChecked: bar.update}, (event) => {
		if (event.type === 'published') {
			output.line(`fetched again: ${event.path}`);
		} else if (event.type === 'warning') {
			output.line(`warning: ${event.message}`);
		}
	}).finally(() => bar.stop());
	for (const problem of report.problems) {
		output.line(`bad: ${problem.path}: ${problem.problem}`);
	}

	for (const file of report.quarantined) {
		output.line(`quarantined: ${file} (could not fetch it again; moved to ${report.quarantineDir})`);
	}

	for (const file of report.quarantinedPackages) {
		output.line(
			`quarantined: ${file} with its signature and info (could not fetch it again; moved to ${report.quarantineDir})`,
		);
	}

	for (const file of report.quarantinedDefend) {
		output.line(`quarantined: ${file} (could not fetch it again; moved to ${report.quarantineDir})`);
	}

	for (const file of report.quarantinedImages) {
		output.line(
			`quarantined: ${file} (the tags reaching it could not all be fetched again; moved to ${report.quarantineDir})`,
		);
	}

	for (const link of report.removed) {
		output.line(`removed link: ${link}`);
	}

	const resolved = new Set([...report.repaired, ...report.removed]);
	const unrepaired = report.problems.filter((problem) => !resolved.has(problem.path));
	output.line(
		`verified ${checkedText(report)}: ${report.problems.length} problems${config.repair ? `, ${report.repaired.length} repaired, ${report.quarantined.length + report.quarantinedPackages.length + report.quarantinedDefend.length + report.quarantinedImages.length} quarantined` : ''}`,
	);
	return unrepaired.length === 0 ? 0 : 1;
}

/** `prune`: prints the plan; deletes with --yes. */
export async function runPrune(sources: ConfigSources, output: Output): Promise<number> {
	const config = loadPruneConfig(sources);
	for (const note of config.notes) {
		output.line(`note: ${note}`);
	}

	const result = await prune(config, config.rules, config.yes, (message) =>
		output.line(`warning: ${message}`),
	);
	const verb = result.deleted ? 'deleted' : 'would delete';
	for (const {entry, reason} of result.actions) {
		output.line(`${verb} ${entry.path} (${formatBytes(entry.size)}): ${reason}`);
	}

	for (const {entry, reason} of result.packages.actions) {
		output.line(
			`${verb} ${entry.path} (${formatBytes(packageBytes(entry))} with its signature and info): ${reason}`,
		);
	}

	for (const {entry, requiredBy} of result.packages.spared) {
		output.line(`keeping ${entry.path}: ${requiredBy} requires it`);
	}

	for (const {entry, reason} of [...result.defend.versions, ...result.defend.artifacts]) {
		output.line(`${verb} ${entry.path} (${formatBytes(entry.size)}): ${reason}`);
	}

	for (const {repository, tag, entry, reason} of result.images.tags) {
		output.line(
			`${result.deleted ? 'removed' : 'would remove'} tag ${repository}:${tag} (${entry.digest}, ${entry.platforms.join(', ') || 'no platform'}): ${reason}`,
		);
	}

	for (const {entry, reason} of result.images.blobs) {
		output.line(`${verb} ${blobPath(entry.digest)} (${formatBytes(entry.size)}): ${reason}`);
	}

	const count = result.actions.length;
	const versions = result.packages.actions.length;
	const defend = result.defend.versions.length + result.defend.artifacts.length;
	const images = result.images.tags.length + result.images.blobs.length;
	const what = `${count} artifacts${versions > 0 ? ` and ${versions} package versions` : ''}${defend > 0 ? `, ${result.defend.versions.length} Defend manifests and ${result.defend.artifacts.length} Defend artifacts` : ''}${images > 0 ? `, ${result.images.tags.length} image tags and ${result.images.blobs.length} image blobs` : ''}`;
	output.line(
		result.deleted
			? `deleted ${what} with their ${versions > 0 ? 'companion files' : 'sidecars'}; ${formatBytes(result.bytes)} freed`
			: `${what} (${formatBytes(result.bytes)}) would be deleted${count + versions + defend + images > 0 ? '; run again with --yes to delete them' : ''}`,
	);
	return 0;
}

/** `package-paths`: the folder for Elastic's registry, then the config.yml lines that load it. */
export async function runPackagePaths(sources: ConfigSources, output: Output): Promise<number> {
	const config = loadPackagePathsConfig(sources);
	const summary = await writePackagePaths({
		...config,
		onWarning: (message) => output.line(`warning: ${message}`),
	});
	output.line(
		`${summary.versions} package versions in ${summary.out}: ${summary.written} files written (${formatBytes(summary.bytes)}), ${summary.present} already there`,
	);
	output.line("for Elastic's registry, in its config.yml (in its container, mount the folder at that path):");
	output.line(packagePathsSnippet(summary.out).trimEnd());
	return 0;
}
