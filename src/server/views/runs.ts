/** What the last runs did: the last run's failed files and a short history, on the home page. */
import {formatBytes, formatDuration, formatTime} from '../../format.js';
import type {RunFailure, RunRecord, Status} from '../../store/status.js';
import {redactPublic} from '../public-text.js';
import {type Html, html} from './html.js';

/** Longer failure lists start collapsed, so the catalogue stays in view. */
const openFailuresUpTo = 10;

/** A failure as the pages and the API show it (reasons are redacted again: this is public). */
export function publicFailure(failure: RunFailure): RunFailure {
	return {...failure, reason: redactPublic(failure.reason)};
}

/** A run record as the pages and the API show it: its error and failure reasons redacted. */
export function publicRun(run: RunRecord): RunRecord {
	return {
		...run,
		...(run.error === undefined ? {} : {error: redactPublic(run.error)}),
		...(run.failures === undefined ? {} : {failures: run.failures.map(publicFailure)}),
	};
}

/** The last run's failed files, or nothing when it had none recorded. */
export function failuresBlock(run: RunRecord | undefined): Html | null {
	const failures = run?.failures ?? [];
	if (!run || failures.length === 0) {
		return null;
	}

	const total = Math.max(run.counts.failed, failures.length);
	const shown = total > failures.length ? `, the first ${failures.length} listed` : '';
	return html`<section class="runs" aria-labelledby="failures-title">
<details class="failures"${failures.length <= openFailuresUpTo ? ' open' : ''}>
<summary><h2 id="failures-title">Why the last ${run.kind === 'import' ? 'import' : 'sync'} failed</h2>: ${total} ${total === 1 ? 'file' : 'files'} failed${shown}</summary>
<div class="table-wrap">
<table class="failure-list">
<thead><tr><th scope="col">File</th><th scope="col">Code</th><th scope="col">Reason</th></tr></thead>
<tbody>
${failures.map(publicFailure).map((failure) => html`<tr><td class="path">${failure.path}</td><td><code>${failure.code ?? ''}</code></td><td>${failure.reason}</td></tr>`)}
</tbody>
</table>
</div>
</details>
</section>`;
}

function duration(run: RunRecord): string {
	const ms = Date.parse(run.finishedAt) - Date.parse(run.startedAt);
	return Number.isFinite(ms) && ms >= 0 ? formatDuration(ms) : '';
}

/** The last runs, newest first, or nothing before the first recorded one. */
export function historyBlock(status: Status): Html | null {
	const history = status.history ?? [];
	if (history.length === 0) {
		return null;
	}

	return html`<section class="runs" aria-labelledby="history-title">
<details class="history">
<summary><h2 id="history-title">Recent runs</h2>: ${history.length === 1 ? 'the last run' : `the last ${history.length}`}</summary>
<div class="table-wrap">
<table class="history-list">
<thead><tr><th scope="col">Finished</th><th scope="col">Run</th><th scope="col">Result</th><th scope="col" class="num">Published</th><th scope="col" class="num">Present</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Downloaded</th><th scope="col" class="num">Took</th></tr></thead>
<tbody>
${history.map(
	(run) => html`<tr class="run run-${run.result}">
<td><time datetime="${run.finishedAt}">${formatTime(run.finishedAt)}</time></td><td>${run.kind ?? 'sync'}</td><td><span class="badge ${run.result === 'success' ? 'ok' : 'bad'}">${run.result === 'success' ? 'succeeded' : 'failed'}</span></td><td class="num">${run.counts.published}</td><td class="num">${run.counts.present}</td><td class="num">${run.counts.failed}</td><td class="num">${formatBytes(run.counts.bytes)}</td><td class="num">${duration(run)}</td>
</tr>`,
)}
</tbody>
</table>
</div>
</details>
</section>`;
}
