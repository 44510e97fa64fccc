/**
The summary of a sync run as a person reads it: artifacts, key files, package
versions and Defend protections counted apart, and the failures not printed while
the run went on.
*/
import {formatBytes, formatDuration} from '../format.js';
import type {Summary} from '../mirror/events.js';

/** `; key files: 1 updated, 1 unchanged`, or nothing when no key file was looked at. */
function keyText(summary: Summary): string {
	const parts = [
		summary.keys.published > 0 ? `${summary.keys.published} updated` : '',
		summary.keys.present > 0 ? `${summary.keys.present} unchanged` : '',
	].filter((part) => part !== '');
	return parts.length > 0 ? `; key files: ${parts.join(', ')}` : '';
}

/** `packages: 3 published, 2 present`, or nothing when no package was selected. */
function packageText(summary: Summary): string {
	const counts = summary.packages;
	if (!counts) {
		return '';
	}

	const parts = [
		summary.dryRun ? '' : `${counts.published} published`,
		`${counts.present} ${summary.dryRun ? 'already published' : 'present'}`,
		counts.failed > 0 ? `${counts.failed} failed` : '',
	].filter((part) => part !== '');
	return `packages: ${parts.join(', ')}`;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** `defend: 2 versions updated, 1 unchanged; 14 artifacts published`, or nothing when Defend was not selected. */
function defendText(summary: Summary): string {
	const counts = summary.defend;
	if (!counts) {
		return '';
	}

	if (summary.dryRun) {
		const fresh = counts.versions - counts.held;
		return `defend: ${plural(counts.versions, 'version')}, ${fresh} new (no manifest asked for in a dry run)`;
	}

	const versions = [
		`${plural(counts.updated, 'version')} updated`,
		counts.unchanged > 0 ? `${counts.unchanged} unchanged` : '',
		counts.failed > 0 ? `${counts.failed} failed` : '',
	].filter((part) => part !== '');
	const artifacts = [
		`${plural(counts.artifacts.published, 'artifact')} published`,
		counts.artifacts.present > 0 ? `${counts.artifacts.present} already present` : '',
	].filter((part) => part !== '');
	return `defend: ${versions.join(', ')}; ${artifacts.join(', ')}`;
}

/** `images: 3 tags updated, 1 unchanged; 12 blobs published`, or nothing when images were not selected. */
function imagesText(summary: Summary): string {
	const counts = summary.images;
	if (!counts) {
		return '';
	}

	if (summary.dryRun) {
		return `images: ${plural(counts.tags, 'tag')} selected (no manifest asked for in a dry run)`;
	}

	const tags = [
		`${plural(counts.updated, 'tag')} updated`,
		counts.unchanged > 0 ? `${counts.unchanged} unchanged` : '',
		counts.skipped > 0 ? `${counts.skipped} skipped` : '',
		counts.failed > 0 ? `${counts.failed} failed` : '',
	].filter((part) => part !== '');
	const blobs = [
		`${plural(counts.blobs.published, 'blob')} published`,
		counts.blobs.present > 0 ? `${counts.blobs.present} already present` : '',
	].filter((part) => part !== '');
	return `images: ${tags.join(', ')}; ${blobs.join(', ')}`;
}

/** Whether the run was about other collections alone: then artifact counts would only be zeros. */
function otherCollectionsOnly(summary: Summary): boolean {
	return (
		(summary.packages !== undefined || summary.defend !== undefined || summary.images !== undefined) &&
		summary.versions.length === 0 &&
		summary.published +
			summary.present +
			summary.notPublished +
			summary.keys.published +
			summary.keys.present ===
			0
	);
}

const failedLine = (failure: Summary['failed'][number]) => `  failed: ${failure.path}: ${failure.reason}`;

/** The summary; failures already printed as they happened (`printed`) are not repeated. */
export function summaryLines(summary: Summary, printed: ReadonlySet<string> = new Set()): string[] {
	const packages = [packageText(summary), defendText(summary), imagesText(summary)]
		.filter((part) => part !== '')
		.join('; ');
	if (summary.dryRun) {
		const counts = otherCollectionsOnly(summary)
			? packages
			: `${summary.present} already published${packages ? `; ${packages}` : ''}`;
		return [
			`dry run: nothing was downloaded or changed (${counts})`,
			...summary.failed.filter((failure) => !printed.has(failure.path)).map(failedLine),
		];
	}

	const counts = otherCollectionsOnly(summary)
		? `${packages}; `
		: `${summary.published} published, ${summary.present} already present, ` +
			`${summary.notPublished} not published upstream, ${summary.failed.length} failed; `;
	const lines = [
		`${summary.result === 'success' ? 'done' : 'FAILED'}: ${counts}` +
			`${formatBytes(summary.bytes)} downloaded in ${formatDuration(summary.durationMs)}` +
			keyText(summary) +
			(packages && !otherCollectionsOnly(summary) ? `; ${packages}` : ''),
	];
	for (const failure of summary.failed) {
		if (!printed.has(failure.path)) {
			lines.push(failedLine(failure));
		}
	}

	return lines;
}
