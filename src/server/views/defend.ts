/**
The catalogue's Elastic Defend protections: the policy settings that point Endpoint
at this mirror, and per Defend version the manifest it holds (its manifest_version,
when upstream last confirmed it and how long ago, with a warning past 30 days), the
count and size of the artifacts it names, and the manifest zip itself.
*/
import {formatAge, formatBytes, formatTime} from '../../format.js';
import {type DefendRow, defendRows, defendSettings, isDefendStale} from '../defend/defend-rows.js';
import type {Snapshot} from '../mirror-index.js';
import {type Html, html} from './html.js';
import {copyButton} from './layout.js';

function versionRow({entry, artifactCount, artifactBytes}: DefendRow, root: string, now: number): Html {
	const stale = isDefendStale(entry, now);
	const zipName = entry.path.slice(entry.path.lastIndexOf('/') + 1);
	return html`<tr class="defend-version${stale ? ' stale' : ''}" id="defend-${entry.version}" data-version="${entry.version}">
<th scope="row" data-label="Version">${entry.version}</th>
<td data-label="manifest_version"><code>${entry.manifestVersion}</code></td>
<td data-label="Last refreshed" class="refreshed"><time datetime="${entry.refreshedAt}">${formatTime(entry.refreshedAt)}</time> <span class="age">(${formatAge(entry.refreshedAt, now)})</span>${stale ? html` <span class="badge warn" title="upstream has not confirmed this manifest for over 30 days: run sync">older than 30 days</span>` : null}</td>
<td data-label="Artifacts">${artifactCount} ${artifactCount === 1 ? 'artifact' : 'artifacts'}, ${formatBytes(artifactBytes)}</td>
<td data-label="Manifest"><a class="file" href="${root}${entry.path}" download>${zipName}</a> <small>${formatBytes(entry.size)}</small></td>
</tr>`;
}

function settingsBlock(publicUrl: string): Html {
	const settings = defendSettings(publicUrl);
	return html`<div class="kibana-settings defend-settings">
<h3>Point Elastic Defend here</h3>
<p>In the Elastic Defend integration policy, under <strong>Advanced settings</strong>, set:</p>
<div class="command"><pre><code>${settings}</code></pre>${copyButton(settings, 'Copy', 'Elastic Defend settings')}</div>
<p class="hint">Nothing else is needed: each endpoint asks for the manifest of its own version. Leave <code>public_key</code> empty: the manifests and artifacts here are byte-identical to Elastic's, so Elastic's signature still verifies.</p>
${
	publicUrl.startsWith('https:')
		? html`<p class="hint">If this mirror's certificate is signed by a private CA, the endpoints' hosts must trust that CA.</p>`
		: null
}
</div>`;
}

/** The Defend protections section for `snapshot` at `publicUrl`, at `now` (ms); null when the mirror holds no Defend version. */
export function defendHtml(snapshot: Snapshot, publicUrl: string, root: string, now: number): Html | null {
	const rows = defendRows(snapshot);
	if (rows.length === 0) {
		return null;
	}

	const named = new Set(rows.flatMap((row) => row.entry.artifacts));
	const {artifacts} = snapshot.manifest.defend;
	const bytes = [...named].reduce((sum, path) => sum + (artifacts[path]?.size ?? 0), 0);
	return html`<section class="defend" id="defend" aria-labelledby="defend-title">
<h2 id="defend-title">Defend protections <small>${rows.length} Elastic Defend ${rows.length === 1 ? 'version' : 'versions'}, ${named.size} ${named.size === 1 ? 'artifact' : 'artifacts'} (${formatBytes(bytes)}) · <a href="${root}api/v1/defend">API</a></small></h2>
${settingsBlock(publicUrl)}
<div class="table-wrap">
<table class="defend-table">
<thead><tr><th scope="col">Version</th><th scope="col">manifest_version</th><th scope="col">Last refreshed</th><th scope="col">Artifacts</th><th scope="col">Manifest</th></tr></thead>
<tbody>
${rows.map((row) => versionRow(row, root, now))}
</tbody>
</table>
</div>
</section>`;
}
