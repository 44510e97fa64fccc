/**
The catalogue's integration packages: the Kibana settings that point Fleet at this
mirror as its package registry, and a table of the packages it holds (icon, name,
title, versions newest first with the Kibana versions each works with, sizes and
links). Rendered once per snapshot and public URL.
*/
import semver from 'semver';
import {formatBytes} from '../../format.js';
import {packagePaths} from '../../packages/catalog.js';
import type {PackageEntry} from '../../store/manifest.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import {kibanaCondition, packageTitle, sortedPackages} from '../registry/package-index.js';
import {type Html, html} from './html.js';
import {copyButton} from './layout.js';

/** Versions of one package listed on the page; the rest are in the API. */
const versionsShown = 5;

/** The lines to paste into kibana.yml. */
export function kibanaSettings(publicUrl: string): string {
	return `xpack.fleet.registryUrl: "${publicUrl}"\nxpack.fleet.isAirGapped: true`;
}

/** The icon of a version, from inside its zip (the first icon its search entry names). */
function iconOf(entry: PackageEntry, root: string): Html | null {
	const icons = entry.search.icons;
	const first = Array.isArray(icons) ? (icons[0] as {path?: unknown} | undefined) : undefined;
	const path = typeof first?.path === 'string' ? first.path : undefined;
	if (!path?.startsWith(`/package/${entry.name}/${entry.version}/`)) {
		return null;
	}

	return html`<img class="package-icon" src="${root}${path.slice(1)}" alt="" width="32" height="32" loading="lazy">`;
}

function versionLine(entry: PackageEntry, root: string): Html {
	const paths = packagePaths(entry.name, entry.version);
	const condition = kibanaCondition(entry);
	const prerelease = (semver.parse(entry.version)?.prerelease.length ?? 0) > 0;
	return html`<li data-version="${entry.version}"><span class="version-name">${entry.version}</span>${prerelease ? html` <span class="badge pre">prerelease</span>` : null}
<span class="kibana" title="conditions.kibana.version">Kibana ${condition ?? 'any version'}</span>
<a class="file" href="${root}${paths.zip}" download>${formatBytes(entry.size)}</a>
<span class="sums"><a href="${root}${paths.signature}">sig</a><a href="${root}package/${entry.name}/${entry.version}/">info</a><a href="${root}package/${entry.name}/${entry.version}/docs/README.md">README</a></span></li>`;
}

function packageRow(versions: readonly PackageEntry[], root: string): Html {
	const [newest] = versions;
	if (!newest) {
		return html``;
	}

	const older = versions.length - versionsShown;
	return html`<tr class="package" id="package-${newest.name}">
<td class="icon">${iconOf(newest, root)}</td>
<th scope="row" data-label="Package"><span class="package-title">${packageTitle(newest)}</span> <code>${newest.name}</code></th>
<td data-label="Versions"><ul class="package-versions">${versions.slice(0, versionsShown).map((entry) => versionLine(entry, root))}</ul>
${older > 0 ? html`<a class="older" href="${root}api/v1/packages?name=${newest.name}">${older} older</a>` : null}</td>
</tr>`;
}

function settingsBlock(publicUrl: string): Html {
	const settings = kibanaSettings(publicUrl);
	return html`<div class="kibana-settings">
<h3>Point Kibana here</h3>
<p>Add to <code>kibana.yml</code>, then restart Kibana:</p>
<div class="command"><pre><code>${settings}</code></pre>${copyButton(settings, 'Copy', 'Kibana settings')}</div>
${
	publicUrl.startsWith('https:')
		? html`<p class="hint">If this mirror's certificate is signed by a private CA, Kibana must trust that CA: start it with <code>NODE_EXTRA_CA_CERTS=/path/to/ca.crt</code> in its environment (kibana.yml cannot set it).</p>`
		: null
}
<p class="hint">Another mirror can sync from this one with <code>--registry ${publicUrl}</code>.</p>
</div>`;
}

/** The Packages section for `snapshot` at `publicUrl`; null when the mirror holds no package. */
export function packagesHtml(snapshot: Snapshot, publicUrl: string, root: string): Html | null {
	const all = sortedPackages(snapshot);
	if (all.length === 0) {
		return null;
	}

	const renderings = perSnapshot(snapshot, 'packages-section', () => new Map<string, Html>());
	const key = `${root}\n${publicUrl}`;
	const cached = renderings.get(key);
	if (cached) {
		return cached;
	}

	const byName = new Map<string, PackageEntry[]>();
	for (const entry of all) {
		byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
	}

	const rendered = html`<section class="packages" id="packages" aria-labelledby="packages-title">
<h2 id="packages-title">Packages <small>${byName.size} integration ${byName.size === 1 ? 'package' : 'packages'}, ${all.length} ${all.length === 1 ? 'version' : 'versions'} · <a href="${root}api/v1/packages">API</a></small></h2>
${settingsBlock(publicUrl)}
<div class="table-wrap">
<table class="package-table">
<thead><tr><th scope="col"><span class="visually-hidden">Icon</span></th><th scope="col">Package</th><th scope="col">Versions (newest first), Kibana compatibility, size</th></tr></thead>
<tbody>
${[...byName.values()].map((versions) => packageRow(versions, root))}
</tbody>
</table>
</div>
</section>`;
	if (renderings.size >= 16) {
		renderings.clear();
	}

	renderings.set(key, rendered);
	return rendered;
}
