/**
`push-images` on the command line: the config turned into one pushImages call, a
line per tag (or a JSON line with --json) and a summary, and the exit code: 0 when
every tag is in the registry, 1 when one failed (the others are still pushed).
*/
import {loadPushConfig} from '../config/push.js';
import type {ConfigSources} from '../config/sources.js';
import {formatBytes} from '../format.js';
import {type PushSummary, pushImages, type TagReport} from '../images/push.js';
import type {Output} from './commands.js';

function tagLine(report: TagReport): string {
	const source = `${report.repository}:${report.tag}`;
	const {blobs} = report;
	switch (report.result) {
		case 'planned':
			return `would push ${source} to ${report.reference}: ${blobs.total} blobs (${formatBytes(blobs.totalBytes)}), ${report.manifests} manifests by digest, then the tag; ${report.digest}`;
		case 'unchanged':
			return `unchanged ${source}: ${report.reference} is already ${report.digest}`;
		case 'pushed':
			return `pushed ${source} to ${report.reference}: ${blobs.uploaded} blobs uploaded (${formatBytes(blobs.bytes)}), ${blobs.mounted} mounted, ${blobs.present} already there; ${report.manifests} manifests by digest; ${report.digest}`;
		default:
			return `failed ${source}: ${report.error ?? 'unknown error'}`;
	}
}

function summaryLine(summary: PushSummary, planned: {blobs: number; bytes: number}): string {
	if (summary.dryRun) {
		return `would push ${summary.tags} tags to ${summary.registry}: ${planned.blobs} blobs (${formatBytes(planned.bytes)}) unless already there; nothing was sent`;
	}

	const {blobs} = summary;
	return `pushed ${summary.pushed} tags to ${summary.registry}, ${summary.unchanged} unchanged, ${summary.failed} failed: ${blobs.uploaded} blobs uploaded (${formatBytes(blobs.bytes)}), ${blobs.mounted} mounted, ${blobs.present} already there`;
}

/** `push-images`: exit 0 when every tag is in the registry, 1 when one failed. */
export async function runPushImages(sources: ConfigSources, output: Output): Promise<number> {
	const config = loadPushConfig(sources);
	const planned = {blobs: 0, bytes: 0};
	const summary = await pushImages({
		...config,
		onWarning: (message) =>
			output.line(config.json ? JSON.stringify({type: 'warning', message}) : `warning: ${message}`),
		onTag: (report) => {
			planned.blobs += report.blobs.total;
			planned.bytes += report.blobs.totalBytes;
			if (config.json) {
				output.line(JSON.stringify({type: 'tag', ...report}));
				return;
			}

			if (report.reduced) {
				output.line(
					`${report.repository}:${report.tag}: index reduced to ${report.reduced.platforms.join(', ')} (held): ${report.digest} (mirror ${report.reduced.from})`,
				);
			}

			output.line(tagLine(report));
		},
	});
	if (config.json) {
		output.line(JSON.stringify({type: 'summary', ...summary}));
	} else if (summary.tags === 0) {
		output.line('the mirror holds no images: nothing to push (sync with --images first)');
	} else {
		output.line(summaryLine(summary, planned));
	}

	return summary.failed === 0 ? 0 : 1;
}
