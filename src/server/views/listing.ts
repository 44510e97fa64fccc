/** Directory listings of the tree, in HTML. */
import {formatBytes, formatTime} from '../../format.js';
import {html} from './html.js';
import {page} from './layout.js';

/** One entry of a listed folder. */
export type ListingEntry = {
	readonly name: string;
	readonly type: 'file' | 'directory';
	/** Bytes; files only. */
	readonly size?: number | undefined;
	/** ISO time; undefined for folders of an object store, which have none. */
	readonly modified?: string | undefined;
};

/** The listing page of the folder at `segments` (e.g. ['downloads', 'beats']); links are relative. */
export function listingPage(
	segments: readonly string[],
	entries: readonly ListingEntry[],
	metricsLink = true,
): string {
	const root = segments.length > 0 ? '../'.repeat(segments.length) : './';
	const crumbs = segments.map((segment, index) => ({
		name: segment,
		href: '../'.repeat(segments.length - index - 1) || './',
	}));
	const here = `/${segments.join('/')}/`;
	const body = html`<div class="intro">
<h1 class="crumbs"><a href="${root}">mirror</a>${crumbs.map((crumb) => html`<span>/</span><a href="${crumb.href}">${crumb.name}</a>`)}<span>/</span></h1>
<p>${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} · also as JSON, with <code>Accept: application/json</code></p>
</div>
<div class="table-wrap">
<table class="listing">
<thead><tr><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col">Modified</th></tr></thead>
<tbody>
${segments.length > 0 ? html`<tr><td><a href="../">../</a></td><td class="num"></td><td></td></tr>` : null}
${entries.map((entry) => {
	const name = entry.type === 'directory' ? `${entry.name}/` : entry.name;
	return html`<tr class="${entry.type}"><td><a href="${encodeURIComponent(entry.name)}${entry.type === 'directory' ? '/' : ''}">${name}</a></td><td class="num">${entry.size === undefined ? '' : formatBytes(entry.size)}</td><td>${entry.modified ? formatTime(entry.modified) : ''}</td></tr>`;
})}
</tbody>
</table>
</div>`;
	return page(`Index of ${here}`, body, root, {metrics: metricsLink});
}
