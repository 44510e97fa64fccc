/**
The product tables of the catalogue: per product, the newest versions against
platforms. Rendered once per snapshot and public URL; older versions are
collapsed into a count with links, so the page stays small however many
versions the mirror holds.
*/
import {formatBytes, formatTime} from '../../format.js';
import type {ManifestEntry} from '../../store/manifest.js';
import type {ProductGroup, Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import {type Html, html} from './html.js';
import {copyButton} from './layout.js';

/** Versions per product shown on the page; the rest are in the listing and the API. */
export const newestVersionsShown = 10;

/** How many public URLs' renderings a snapshot keeps (without --public-url each Host is one). */
const renderingsKept = 16;

const productTitles: Record<string, string> = {
	'elastic-agent': 'Elastic Agent',
	'fleet-server': 'Fleet Server',
	'apm-server': 'APM Server',
	'endpoint-security': 'Elastic Defend',
};

/** The product's name as people know it. */
export function titleOf(group: ProductGroup): string {
	const name = productTitles[group.product] ?? group.product.replace(/^./, (first) => first.toUpperCase());
	return group.fips ? `${name} (FIPS)` : name;
}

function cell(entry: ManifestEntry | undefined, platform: string, root: string): Html {
	if (!entry) {
		return html`<td class="absent" data-label="${platform}"><span aria-label="not mirrored">—</span></td>`;
	}

	return html`<td data-label="${platform}">
<a class="file" href="${root}${entry.path}" download>${formatBytes(entry.size)}</a>
<span class="sums"><a href="${root}${entry.path}.sha512">sha512</a>${copyButton(entry.sha512, 'Copy', `sha512 of ${entry.path.split('/').pop() ?? ''}`)}<a href="${root}${entry.path}.asc">asc</a></span>
</td>`;
}

function productBlock(group: ProductGroup, publicUrl: string, root: string): Html {
	const upgradable = group.product === 'elastic-agent' && !group.fips;
	const downloads = `${publicUrl}/downloads/`;
	return html`<section class="product" id="${group.id}" aria-labelledby="${group.id}-title">
<h2 id="${group.id}-title">${titleOf(group)} <small><a href="${root}downloads/${group.folder}/">downloads/${group.folder}/</a></small></h2>
<div class="table-wrap">
<table>
<thead><tr><th scope="col">Version</th>${group.platforms.map((id) => html`<th scope="col">${id}</th>`)}</tr></thead>
<tbody>
${group.versions.slice(0, newestVersionsShown).map((row) => {
	const command = `elastic-agent upgrade ${row.version} --source-uri ${downloads}`;
	const published =
		[...row.files.values()]
			.map((entry) => entry.publishedAt)
			.sort()
			.at(-1) ?? '';
	return html`<tr class="version" data-version="${row.version}">
<th scope="row" data-label="Version"><span class="version-name">${row.version}</span>${row.mutable ? html` <span class="badge pre">prerelease</span>` : null}
<small class="published" title="published ${published}">${published ? formatTime(published) : ''}</small></th>
${group.platforms.map((id) => cell(row.files.get(id), id, root))}
</tr>
${upgradable ? html`<tr class="command-row"><td colspan="${group.platforms.length + 1}"><div class="command"><code>${command}</code>${copyButton(command, 'Copy command', `upgrade command for ${row.version}`)}</div></td></tr>` : null}`;
})}
</tbody>
</table>
</div>
${olderVersions(group, root)}
</section>`;
}

function olderVersions(group: ProductGroup, root: string): Html | null {
	const older = group.versions.length - newestVersionsShown;
	if (older <= 0) {
		return null;
	}

	return html`<p class="older">${older} older ${older === 1 ? 'version is' : 'versions are'} not shown here: see <a href="${root}downloads/${group.folder}/">downloads/${group.folder}/</a> or <a href="${root}api/v1/artifacts?product=${encodeURIComponent(group.product)}">the API</a>.</p>`;
}

/**
The product tables for `snapshot` as seen at `publicUrl`, from the snapshot's cache
when rendered before (then `onCached` is called).
*/
export function catalogueHtml(
	snapshot: Snapshot,
	publicUrl: string,
	root: string,
	onCached?: () => void,
): Html {
	const renderings = perSnapshot(snapshot, 'catalogue', () => new Map<string, Html>());
	const key = `${root}\n${publicUrl}`;
	let rendered = renderings.get(key);
	if (rendered) {
		onCached?.();
	} else {
		if (renderings.size >= renderingsKept) {
			renderings.clear();
		}

		rendered = html`${snapshot.groups.map((group) => productBlock(group, publicUrl, root))}`;
		renderings.set(key, rendered);
	}

	return rendered;
}
