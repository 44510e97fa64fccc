/** The catalogue: what the mirror holds, and how to point Fleet and agents at it. */
import {keyFiles} from '../../agent/catalog.js';
import {formatAge, formatBytes, formatTime} from '../../format.js';
import type {RunRecord} from '../../store/status.js';
import type {Snapshot} from '../mirror-index.js';
import {perSnapshot} from '../per-snapshot.js';
import {redactPublic} from '../public-text.js';
import type {ScheduleInfo} from '../schedule.js';
import {catalogueHtml, titleOf} from './catalogue.js';
import {defendHtml} from './defend.js';
import {type Html, html} from './html.js';
import {type ImagesViewInput, imagesHtml} from './images.js';
import {copyButton, page} from './layout.js';
import {packagesHtml} from './packages.js';
import {failuresBlock, historyBlock} from './runs.js';

/** The holdings line: counted once per snapshot, not per request (5,000 package versions take milliseconds). */
function holdings(snapshot: Snapshot): Html {
	return perSnapshot(snapshot, 'holdings', () => countHoldings(snapshot));
}

function countHoldings(snapshot: Snapshot): Html {
	const bytes = snapshot.bytes;
	const count = snapshot.byPath.size;
	const versions = snapshot.versions.length;
	// Signing keys are counted apart from artifacts, here as in the runs' counts.
	const keys = Object.keys(snapshot.manifest.keys).length;
	const packages = Object.values(snapshot.manifest.packages ?? {});
	const defend = Object.keys(snapshot.manifest.defend?.versions ?? {}).length;
	const versionsOf = (n: number) => `${n} integration package ${n === 1 ? 'version' : 'versions'}`;
	const packagesOf = () => {
		const names = new Set(packages.map((entry) => entry.name)).size;
		return `${versionsOf(packages.length)} of ${names} ${names === 1 ? 'package' : 'packages'}`;
	};
	const defendText = `Elastic Defend protections for ${defend} ${defend === 1 ? 'version' : 'versions'}`;
	const repositories = Object.values(snapshot.manifest.images?.repositories ?? {});
	const tags = repositories.reduce((sum, each) => sum + Object.keys(each).length, 0);
	const imagesText = `${tags} container image ${tags === 1 ? 'tag' : 'tags'} of ${repositories.length} ${repositories.length === 1 ? 'repository' : 'repositories'}`;
	if (count === 0 && packages.length + defend + tags > 0) {
		const held = [
			packages.length > 0 ? packagesOf() : '',
			defend > 0 ? defendText : '',
			tags > 0 ? imagesText : '',
		].filter(Boolean);
		return html`<p class="holdings">Holding ${held.join(', and ')}.</p>`;
	}

	const packageLine = packages.length > 0 ? ` Also ${versionsOf(packages.length)}.` : '';
	const defendLine = defend > 0 ? ` Also ${defendText}.` : '';
	const imagesLine = tags > 0 ? ` Also ${imagesText}.` : '';
	return html`<p class="holdings">Holding ${count} ${count === 1 ? 'artifact' : 'artifacts'} (${formatBytes(bytes)}) of ${versions} ${versions === 1 ? 'version' : 'versions'}${versions > 0 ? html`, newest <strong>${snapshot.versions.at(-1)}</strong>` : null}${keys > 0 ? `, and ${keys} signing ${keys === 1 ? 'key' : 'keys'}` : ''}.${packageLine}${defendLine}${imagesLine}</p>`;
}

/** What a run did: artifacts, then package versions, Defend versions and image tags when it handled any, then failures and bytes. */
function countsLine(counts: RunRecord['counts']): string {
	const tail = `${counts.failed} failed, ${formatBytes(counts.bytes)} downloaded.`;
	const artifacts = `${counts.published} published, ${counts.present} already present`;
	const {packages, defend, images} = counts;
	if (!packages && !defend && !images) {
		return `${artifacts}, ${tail}`;
	}

	// Defend failures are files in `failed`, not counted apart: with Defend, only what was published tells.
	const binaries = defend
		? counts.published + counts.present > 0
		: counts.published + counts.present + counts.failed - (packages?.failed ?? 0) - (images?.failed ?? 0) > 0;
	const parts = [
		binaries ? artifacts : '',
		packages ? `package versions: ${packages.published} published, ${packages.present} already present` : '',
		defend
			? `Defend versions: ${defend.updated} updated, ${defend.unchanged} unchanged${defend.failed > 0 ? `, ${defend.failed} not updated` : ''}, ${defend.artifacts.published} ${defend.artifacts.published === 1 ? 'artifact' : 'artifacts'} published`
			: '',
		images
			? `image tags: ${images.updated} updated, ${images.unchanged} unchanged${images.skipped > 0 ? `, ${images.skipped} skipped` : ''}${images.failed > 0 ? `, ${images.failed} failed` : ''}, ${images.blobs.published} ${images.blobs.published === 1 ? 'blob' : 'blobs'} published`
			: '',
	].filter((part) => part !== '');
	return `${parts.join('; ')}; ${tail}`;
}

function scheduleLine(schedule: ScheduleInfo | undefined, now: number): Html | null {
	if (!schedule) {
		return null;
	}

	const next = schedule.nextRun?.toISOString();
	const last = schedule.lastRun;
	return html`<p class="schedule">${schedule.running ? html`<strong>A scheduled sync is running now.</strong> ` : null}Next scheduled sync: ${next ? html`<time datetime="${next}">${formatTime(next)}</time>` : 'none'} (<code>${schedule.expression}</code>)${last && last.result !== 'success' ? html`; the last scheduled run ${last.result === 'skipped' ? 'was skipped' : 'failed'} ${formatAge(last.finishedAt, now)}${last.message ? `: ${last.message}` : ''}` : null}.</p>`;
}

function statusBlock(snapshot: Snapshot, now: number, schedule: ScheduleInfo | undefined): Html {
	const run: RunRecord | undefined = snapshot.status.lastRun;
	const lastSuccess = snapshot.status.lastSuccess;
	if (!run) {
		return html`<section class="status status-none" aria-label="Last sync">
<h2>Last sync</h2>
<p>Nothing synced yet. Run <code>artifact-mirror sync --versions latest</code> against this directory, or import a bundle.</p>
${scheduleLine(schedule, now)}
</section>`;
	}

	const ok = run.result === 'success';
	const counts = run.counts;
	return html`<section class="status ${ok ? 'status-ok' : 'status-failed'}" aria-label="Last sync">
<h2>Last ${run.kind === 'import' ? 'import' : 'sync'} <span class="badge ${ok ? 'ok' : 'bad'}">${ok ? 'succeeded' : 'failed'}</span></h2>
<p><time datetime="${run.finishedAt}">${formatTime(run.finishedAt)}</time> (${formatAge(run.finishedAt, now)}):
${countsLine(counts)}</p>
${run.error ? html`<p class="error">${redactPublic(run.error)}</p>` : null}
${!ok && lastSuccess ? html`<p>Last success: <time datetime="${lastSuccess.finishedAt}">${formatTime(lastSuccess.finishedAt)}</time> (${formatAge(lastSuccess.finishedAt, now)}).</p>` : null}
${holdings(snapshot)}
${scheduleLine(schedule, now)}
</section>`;
}

function setupBlock(snapshot: Snapshot, publicUrl: string, root: string, others: boolean): Html | null {
	if (snapshot.byPath.size === 0 && others) {
		// A mirror of packages, Defend protections or images only: their settings are in their sections.
		return null;
	}

	if (snapshot.byPath.size === 0) {
		// Nothing to point Fleet at yet: URLs that 404 would only be pasted somewhere and fail later.
		return html`<section class="setup setup-empty" aria-labelledby="setup-title">
<h2 id="setup-title">Point Fleet and agents here</h2>
<p>The mirror is empty, so there is nothing to point Fleet or agents at yet. Fill it first:</p>
<p><code>artifact-mirror sync --versions latest</code> (with network access to artifacts.elastic.co), or <code>artifact-mirror import &lt;bundle&gt;</code> (a bundle exported by a connected mirror).</p>
<p class="hint">The download host and PGP key URL for Fleet appear here once the mirror holds artifacts.</p>
</section>`;
	}

	const downloads = `${publicUrl}/downloads/`;
	const pgpUrl = `${publicUrl}/GPG-KEY-elastic-agent`;
	return html`<section class="setup" aria-labelledby="setup-title">
<h2 id="setup-title">Point Fleet and agents here</h2>
<dl>
<div><dt>Fleet → Settings → Agent binary download → Host</dt>
<dd><code class="value">${downloads}</code>${copyButton(downloads, 'Copy', 'download host')}</dd></div>
<div><dt>Fleet Server <code>server.pgp.upstream_url</code></dt>
<dd>${
		snapshot.manifest.keys['GPG-KEY-elastic-agent']
			? html`<code class="value">${pgpUrl}</code>${copyButton(pgpUrl, 'Copy', 'PGP key URL')}`
			: html`<span>not mirrored yet: the next sync brings <code>GPG-KEY-elastic-agent</code> when upstream's copy holds only trusted keys</span>`
	}</dd></div>
<div><dt>Signing keys</dt>
<dd class="keys">${keyFiles.map((name) => {
		const key = snapshot.manifest.keys[name];
		return key
			? html`<a href="${root}${name}">${name}</a> <small class="fingerprint">${key.fingerprints.join(', ')}</small>`
			: html`<span>${name} <small>(not mirrored yet)</small></span>`;
	})}</dd></div>
</dl>
<p class="hint">Give agents the <code>downloads/</code> root, not <code>downloads/beats/elastic-agent/</code>: the agent appends that part itself.
<code>--pgp-uri</code> needs HTTPS.</p>
</section>`;
}

/**
The home page. `publicUrl` has no trailing slash; `images` says how serve names the
container images (`--container-repository`).
*/
export function homePage(
	snapshot: Snapshot,
	publicUrl: string,
	now: number,
	schedule?: ScheduleInfo | undefined,
	onCached?: () => void,
	metricsLink = true,
	images: Pick<ImagesViewInput, 'containerRepository'> = {},
): string {
	// The home page is the root: its links are relative to it, so a proxy may mount the server below a path.
	const root = './';
	const defend = defendHtml(snapshot, publicUrl, root, now);
	const status = statusBlock(snapshot, now, schedule);
	const catalogue = snapshot.groups.length === 0 ? null : catalogueHtml(snapshot, publicUrl, root, onCached);
	// The page is the same text until the time-dependent parts change (an age shown, the
	// next run): the text made before is sent again. A new 0.76 MiB text per request (with
	// 5,000 package versions) is garbage the collector only frees in a full collection,
	// and the heap grew by hundreds of MiB between them.
	const key = [
		publicUrl,
		metricsLink,
		images.containerRepository ?? '',
		status.value,
		defend?.value ?? '',
	].join('\n');
	const made = perSnapshot(snapshot, 'home-pages', () => new Map<string, string>());
	const known = made.get(key);
	if (known !== undefined) {
		return known;
	}

	const text = renderHome(snapshot, {publicUrl, root, defend, status, catalogue, metricsLink, images});
	if (made.size >= pagesKept) {
		made.delete(made.keys().next().value as string);
	}

	made.set(key, text);
	return text;
}

/** Home pages kept per snapshot (public URLs and time-dependent parts). */
const pagesKept = 4;

function renderHome(
	snapshot: Snapshot,
	parts: {
		publicUrl: string;
		root: string;
		defend: Html | null;
		status: Html;
		catalogue: Html | null;
		metricsLink: boolean;
		images: Pick<ImagesViewInput, 'containerRepository'>;
	},
): string {
	const {publicUrl, root, defend, images, metricsLink} = parts;
	const packages = packagesHtml(snapshot, publicUrl, root);
	const containers = imagesHtml(snapshot, {publicUrl, root, containerRepository: images.containerRepository});
	const others = packages !== null || defend !== null || containers !== null;
	const jumps = [
		...snapshot.groups.map((group) => html`<a href="#${group.id}">${titleOf(group)}</a>`),
		...(packages ? [html`<a href="#packages">Packages</a>`] : []),
		...(defend ? [html`<a href="#defend">Defend protections</a>`] : []),
		...(containers ? [html`<a href="#images">Container images</a>`] : []),
	];
	const body = html`<div class="intro">
<h1>Artifacts on this mirror</h1>
<p>Verified copies of Elastic artifacts (sha512 and PGP signature checked before publishing), laid out exactly like artifacts.elastic.co.</p>
${jumps.length > 0 ? html`<nav class="jump" aria-label="Products">${jumps}</nav>` : null}
</div>
${snapshot.warning ? html`<p class="error">The mirror's manifest could not be read; the next sync rebuilds it.</p>` : null}
<div class="cards">
${parts.status}
${setupBlock(snapshot, publicUrl, root, others)}
</div>
${failuresBlock(snapshot.status.lastRun)}
${historyBlock(snapshot.status)}
${snapshot.groups.length === 0 ? (others ? null : html`<section class="empty"><h2>No artifacts yet</h2><p>Once a sync has published files they appear here, newest version first.</p></section>`) : parts.catalogue}
${packages}
${defend}
${containers}`;
	return page('Elastic Artifact Mirror', body, root, {
		browse: snapshot.byPath.size > 0 || defend !== null,
		metrics: metricsLink,
	});
}
