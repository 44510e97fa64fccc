/**
The catalogue's container images: what ECK needs to pull from this mirror (the
`--container-registry` value, the operator's config lines, an `Elasticsearch`
resource pinned to a held image, the eck-diagnostics `--diagnostic-image` value when
the support-diagnostics image is held, the flat names under `--container-repository`),
and per repository its tags newest first with platforms held and skipped, size,
digest and times. Rendered once per snapshot, public URL and naming option.
*/
import {formatBytes, formatTime} from '../../format.js';
import {
	diagnosticsCommand,
	diagnosticsRepository,
	elasticsearchManifest,
	elasticsearchRepository,
	flatReference,
	newestTag,
	operatorConfig,
	operatorRepository,
	registryHost,
} from '../images/eck-values.js';
import {type ImageRepositoryRow, type ImageTagRow, imageHoldings} from '../images/image-rows.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import {type Html, html} from './html.js';
import {copyButton} from './layout.js';

/** Tags of one repository listed on the page; the rest are in the API. */
const tagsShown = 10;

/** What the section needs besides the snapshot. */
export type ImagesViewInput = {
	/** The URL users reach the server at, no trailing slash. */
	readonly publicUrl: string;
	/** The relative way to the server's root. */
	readonly root: string;
	/** serve's `--container-repository NAME`, when set: images are also served under ECK's flat names. */
	readonly containerRepository?: string | undefined;
};

/** `sha256:0123456789ab`: enough to tell digests apart on a page. */
function shortDigest(digest: string): string {
	return digest.slice(0, 'sha256:'.length + 12);
}

function tagRow(repository: string, row: ImageTagRow, host: string): Html {
	const {entry} = row;
	const reference = `${host}/${repository}:${row.tag}`;
	const skipped = entry.skipped ?? [];
	return html`<tr class="image-tag" data-repository="${repository}" data-tag="${row.tag}">
<th scope="row" data-label="Tag"><span class="version-name">${row.tag}</span> ${copyButton(reference, 'Copy', `image reference ${repository}:${row.tag}`)}</th>
<td data-label="Platforms" class="platforms">${entry.platforms.length > 0 ? entry.platforms.join(', ') : '—'}${skipped.length > 0 ? html` <small class="skipped" title="listed upstream, not mirrored (not in --image-platforms)">(skipped: ${skipped.join(', ')})</small>` : null}</td>
<td data-label="Size" class="num">${formatBytes(row.size)}</td>
<td data-label="Digest"><code class="digest" title="${entry.digest}">${shortDigest(entry.digest)}</code>${copyButton(entry.digest, 'Copy', `digest of ${repository}:${row.tag}`)}</td>
<td data-label="Published"><time datetime="${entry.publishedAt}">${formatTime(entry.publishedAt)}</time></td>
<td data-label="Refreshed"><time datetime="${entry.refreshedAt}">${formatTime(entry.refreshedAt)}</time></td>
</tr>`;
}

function repositoryBody(row: ImageRepositoryRow, host: string, root: string): Html {
	const older = row.tags.length - tagsShown;
	return html`<tbody class="image-repository" id="image-${row.name.replaceAll('/', '-')}" data-repository="${row.name}">
<tr class="repository-row"><th scope="rowgroup" colspan="6"><code>${row.name}</code> <small>${row.tags.length} ${row.tags.length === 1 ? 'tag' : 'tags'}, ${formatBytes(row.size)}${older > 0 ? html` · <a class="older" href="${root}api/v1/images">${older} older</a>` : null}</small></th></tr>
${row.tags.slice(0, tagsShown).map((tag) => tagRow(row.name, tag, host))}
</tbody>`;
}

function copyable(text: string, what: string): Html {
	return html`<div class="command"><pre><code>${text}</code></pre>${copyButton(text, 'Copy', what)}</div>`;
}

function eckBlock(repositories: readonly ImageRepositoryRow[], input: ImagesViewInput): Html {
	const {publicUrl, containerRepository} = input;
	const host = registryHost(publicUrl);
	const byName = new Map(repositories.map((row) => [row.name, row]));
	const elasticsearch = newestTag(byName.get(elasticsearchRepository));
	const operator = newestTag(byName.get(operatorRepository));
	const diagnostics = newestTag(byName.get(diagnosticsRepository));
	const example =
		byName.get(elasticsearchRepository) ??
		repositories.find((row) => row.name !== operatorRepository && row.name !== diagnosticsRepository) ??
		repositories[0];
	const exampleTag = example?.tags[0]?.tag;
	const path = URL.canParse(publicUrl) ? new URL(publicUrl).pathname : '/';
	return html`<div class="kibana-settings eck-settings">
<h3>Point ECK here</h3>
<p>Start the ECK operator with <code>--container-registry</code> set to this mirror's host:</p>
<div class="command"><code class="value container-registry">${host}</code>${copyButton(host, 'Copy', '--container-registry value')}</div>
<p>or set it in the operator's config file (<code>eck.yaml</code> in the <code>elastic-operator</code> ConfigMap):</p>
${copyable(operatorConfig(host, containerRepository), 'operator config')}
${
	containerRepository && example && exampleTag
		? html`<p class="hint flat-names">This server also answers ECK's flat names for <code>--container-repository ${containerRepository}</code>: <code>${example.name}:${exampleTag}</code> is pulled as <code class="value">${flatReference(host, example.name, exampleTag, containerRepository)}</code>.</p>`
		: null
}
${operator ? html`<p>The operator's own image (its StatefulSet's <code>image</code>; <code>--container-registry</code> does not move it):</p>${copyable(`${host}/${operatorRepository}:${operator}`, 'operator image')}` : null}
${elasticsearch ? html`<p>Or pin one resource to an image with <code>spec.image</code>:</p>${copyable(elasticsearchManifest(host, elasticsearch), 'Elasticsearch manifest')}` : null}
${diagnostics ? html`<p>eck-diagnostics, with the support-diagnostics image from here:</p>${copyable(diagnosticsCommand(host, diagnostics), 'eck-diagnostics command')}` : null}
${
	publicUrl.startsWith('https:')
		? html`<p class="hint">If this mirror's certificate is signed by a private CA, every node's container runtime must trust that CA (containerd: <code>/etc/containerd/certs.d/${host}/hosts.toml</code>; CRI-O and podman: <code>/etc/containers/certs.d/${host}/ca.crt</code>).</p>`
		: html`<p class="hint">Container runtimes pull over HTTPS unless a registry is configured as insecure: serve with <code>--tls-cert</code>, or list <code>${host}</code> as an insecure registry on every node (see the README).</p>`
}
${path !== '/' ? html`<p class="hint">Container runtimes ask for <code>/v2/</code> at the host's root: the proxy in front must pass <code>/v2/</code> to this server too.</p>` : null}
</div>`;
}

/** The Container images section for `snapshot`; null when the mirror holds no image. */
export function imagesHtml(snapshot: Snapshot, input: ImagesViewInput): Html | null {
	const {repositories, blobs} = imageHoldings(snapshot);
	if (repositories.length === 0) {
		return null;
	}

	const renderings = perSnapshot(snapshot, 'images-section', () => new Map<string, Html>());
	const key = `${input.root}\n${input.publicUrl}\n${input.containerRepository ?? ''}`;
	const cached = renderings.get(key);
	if (cached) {
		return cached;
	}

	const host = registryHost(input.publicUrl);
	const tags = repositories.reduce((sum, row) => sum + row.tags.length, 0);
	const rendered = html`<section class="images" id="images" aria-labelledby="images-title">
<h2 id="images-title">Container images <small>${repositories.length} ${repositories.length === 1 ? 'repository' : 'repositories'}, ${tags} ${tags === 1 ? 'tag' : 'tags'}, ${blobs.count} ${blobs.count === 1 ? 'blob' : 'blobs'} (${formatBytes(blobs.bytes)}) · <a href="${input.root}api/v1/images">API</a></small></h2>
${eckBlock(repositories, input)}
<div class="table-wrap">
<table class="image-table">
<thead><tr><th scope="col">Tag</th><th scope="col">Platforms</th><th scope="col" class="num">Size</th><th scope="col">Digest</th><th scope="col">Published</th><th scope="col">Refreshed</th></tr></thead>
${repositories.map((row) => repositoryBody(row, host, input.root))}
</table>
</div>
</section>`;
	if (renderings.size >= 16) {
		renderings.clear();
	}

	renderings.set(key, rendered);
	return rendered;
}
