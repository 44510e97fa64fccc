/**
The catalogue's Container images section and /api/v1/images, on a mirror filled by
`sync --images` from Debian's docker-registry behind the token proxy and served
in-process: repositories, tags, platforms held and skipped, sizes (the sum of each
tag's blobs), digests, the `--container-registry` value and the ECK snippets, the
eck-diagnostics value only once support-diagnostics is held, an image that failed
in the failure list, and the flat-name hint under `--container-repository`.
*/
import {formatBytes} from '../src/format.js';
import {homePage} from '../src/server/views/home.js';
import {gatedTest} from './helpers/gate.js';
import {request} from './helpers/http.js';
import {imageUpstream, syncImages} from './helpers/image-mirror.js';
import type {PushedImage} from './helpers/oci-images.js';
import {ensureRegistry} from './helpers/oci-registry.js';
import {eventually} from './helpers/package-checks.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const gated = gatedTest('the image page tests (docker-registry)', await ensureRegistry());

type TagJson = {
	tag: string;
	digest: string;
	mediaType: string;
	platforms: string[];
	skipped: string[];
	size: number;
	publishedAt: string;
	refreshedAt: string;
};
type ImagesJson = {repositories: {name: string; tags: TagJson[]}[]; blobs: {count: number; bytes: number}};

/** Bytes the mirror holds for `image` with only `platform` kept: the index, that manifest, its config and layers. */
function heldSize(image: PushedImage, platform: string): number {
	const manifest = image.manifests.find((each) => each.platform === platform);
	if (!manifest) {
		throw new Error(`no ${platform} manifest`);
	}

	const blobs = [manifest.config, ...manifest.layers].map((digest) => image.blobs.get(digest)?.length ?? 0);
	return (image.index?.bytes.length ?? 0) + manifest.bytes.length + blobs.reduce((a, b) => a + b, 0);
}

/** The page's `<section class="images">`, or '' when there is none. */
function imagesSection(page: string): string {
	const start = page.indexOf('<section class="images"');
	return start < 0 ? '' : page.slice(start, page.indexOf('</section>', start));
}

gated(
	'the section lists what sync mirrored and what ECK needs; the diagnostics value appears once its image is held',
	async (t) => {
		const {proxy, elasticsearch, operator, diagnostics, kibana} = await imageUpstream(t);

		const dir = await tempDir(t, 'images-page-');
		const first = await syncImages(
			t,
			dir,
			proxy.url,
			'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0',
		);
		t.is(first.result, 'success', JSON.stringify(first.failed));
		const server = await withServer(t, dir);
		const host = new URL(server.url).host;

		const page = await request(server.url, '/');
		t.is(page.status, 200);
		const section = imagesSection(page.text);
		t.regex(section, /<h2 id="images-title">Container images <small>2 repositories, 2 tags/);
		t.regex(page.text, /<a href="#images">Container images<\/a>/);
		// The last-sync card says what the run did to images, and what the mirror holds.
		t.regex(page.text, /image tags: 2 updated, 0 unchanged, \d+ blobs published; 0 failed/);
		t.regex(page.text, /Holding 2 container image tags of 2 repositories\./);
		for (const [name, tag] of [
			['elasticsearch/elasticsearch', '9.1.3'],
			['eck/eck-operator', '3.2.0'],
		]) {
			t.true(section.includes(`data-repository="${name}" data-tag="${tag}"`), `${name}:${tag}`);
		}

		const esRow = section.slice(section.indexOf('data-tag="9.1.3"'));
		t.regex(
			esRow,
			/<td data-label="Platforms" class="platforms">linux\/amd64 <small class="skipped"[^>]*>\(skipped: linux\/arm64\)/,
		);
		const esDigest = elasticsearch.index?.digest as string;
		t.true(esRow.includes(`<code class="digest" title="${esDigest}">${esDigest.slice(0, 19)}</code>`));
		t.true(esRow.includes(`data-copy="${esDigest}"`));
		t.true(
			esRow.includes(
				`<td data-label="Size" class="num">${formatBytes(heldSize(elasticsearch, 'linux/amd64'))}</td>`,
			),
		);
		// The --container-registry value is host:port, no scheme, and copyable.
		t.true(section.includes(`<code class="value container-registry">${host}</code>`));
		t.true(section.includes(`data-copy="${host}"`));
		t.true(section.includes(`container-registry: ${host}`));
		t.true(section.includes('apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch'));
		t.true(section.includes(`  version: 9.1.3\n  image: ${host}/elasticsearch/elasticsearch:9.1.3`));
		t.true(section.includes(`${host}/eck/eck-operator:3.2.0`));
		t.false(section.includes('eck-diagnostics'));
		t.false(section.includes('flat-names'));

		const api = await request(server.url, '/api/v1/images');
		t.is(api.status, 200);
		t.is(api.headers['content-type'], 'application/json; charset=utf-8');
		t.truthy(api.headers.etag);
		t.is(
			api.headers['cache-control'],
			(await request(server.url, '/api/v1/defend')).headers['cache-control'],
		);
		t.is(
			(await request(server.url, '/api/v1/images', {headers: {'If-None-Match': api.headers.etag ?? ''}}))
				.status,
			304,
		);
		const json = JSON.parse(api.text) as ImagesJson;
		t.deepEqual(
			json.repositories.map((each) => each.name),
			['eck/eck-operator', 'elasticsearch/elasticsearch'],
		);
		const esTag = json.repositories[1]?.tags[0];
		t.like(esTag, {
			tag: '9.1.3',
			digest: esDigest,
			mediaType: 'application/vnd.oci.image.index.v1+json',
			platforms: ['linux/amd64'],
			skipped: ['linux/arm64'],
			size: heldSize(elasticsearch, 'linux/amd64'),
		});
		t.true(Date.parse(esTag?.publishedAt ?? '') > 0 && Date.parse(esTag?.refreshedAt ?? '') > 0);
		t.like(json.repositories[0]?.tags[0], {
			tag: '3.2.0',
			digest: operator.manifests[0]?.digest,
			platforms: ['linux/amd64'],
			skipped: [],
			size: heldSize(operator, 'linux/amd64'),
		});
		// The shared layer is one blob: the store is smaller than the sum of the tags.
		const sharedBytes = elasticsearch.blobs.get(elasticsearch.sharedLayer as string)?.length ?? 0;
		t.deepEqual(json.blobs, {
			// Elasticsearch: index, manifest, config, two layers; the operator: manifest, config, its own layer.
			count: 5 + 3,
			bytes: heldSize(elasticsearch, 'linux/amd64') + heldSize(operator, 'linux/amd64') - sharedBytes,
		});

		// A second run brings support-diagnostics; kibana's bad layer fails that image.
		const kibanaLayer = kibana.manifests[0]?.layers[1] as string;
		proxy.corrupt.add(kibanaLayer);
		const second = await syncImages(
			t,
			dir,
			proxy.url,
			'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0,eck-dev/support-diagnostics:9.3.1,kibana/kibana:9.1.3',
		);
		t.is(second.result, 'failed');
		const command = `eck-diagnostics --diagnostic-image ${host}/eck-dev/support-diagnostics:9.3.1`;
		let after = '';
		t.true(
			await eventually(async () => {
				after = (await request(server.url, '/')).text;
				return imagesSection(after).includes(command);
			}),
		);
		t.true(imagesSection(after).includes(`data-copy="${command}"`));
		t.false(imagesSection(after).includes('data-repository="kibana/kibana"'));
		t.true(imagesSection(after).includes(`data-copy="${diagnostics.manifests[0]?.digest}"`));
		t.regex(after, /image tags: 1 updated, 2 unchanged, 1 failed, \d+ blobs? published; 1 failed/);
		// The failed image is a row of "Why the last sync failed", named repo:tag.
		const failures = after.slice(after.indexOf('<table class="failure-list">'));
		t.regex(failures, /<td class="path">kibana\/kibana:9\.1\.3<\/td><td><code>ERR_DIGEST<\/code><\/td>/);

		// Under serve --container-repository the hint gives ECK's flat name.
		const snapshot = await server.mirrorApp.index.snapshot();
		const flat = imagesSection(
			homePage(snapshot, server.url, Date.now(), undefined, undefined, true, {
				containerRepository: 'elastic',
			}),
		);
		t.regex(flat, /container-repository: elastic/);
		t.true(flat.includes(`<code class="value">${host}/elastic/elasticsearch:9.1.3</code>`));
	},
);
