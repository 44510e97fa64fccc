/**
The image prune plan, pure: newest N by semver when every tag is a version, else by
when the mirror set it; --unselected against sync's --images (an untagged request
keeps every tag); blobs ordered so namers go before what they name.
*/
import test from 'ava';
import {planImagePrune} from '../src/maintain/prune-images.js';
import type {ImageBlobEntry, ImageTagEntry, ManifestView} from '../src/store/manifest.js';

const digest = (name: string) => `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64)}`;

function blob(name: string, refs?: string[]): ImageBlobEntry {
	return {
		digest: digest(name),
		size: name.length,
		...(refs ? {mediaType: 'application/vnd.oci.image.manifest.v1+json', refs: refs.map(digest)} : {}),
		publishedAt: '2026-01-01T00:00:00.000Z',
	};
}

function tag(name: string, publishedAt: string): ImageTagEntry {
	return {
		digest: digest(name),
		mediaType: 'application/vnd.oci.image.manifest.v1+json',
		size: 1,
		platforms: ['linux/amd64'],
		publishedAt,
		refreshedAt: publishedAt,
	};
}

/** Three images sharing a layer; `m-a` … `m-c` name `shared` and a layer each. */
const images: ManifestView['images'] = {
	blobs: Object.fromEntries(
		[
			blob('shared'),
			...['a', 'b', 'c'].flatMap((each) => [blob(`l-${each}`), blob(`m-${each}`, ['shared', `l-${each}`])]),
			blob('leftover'),
		].map((entry) => [entry.digest, entry]),
	),
	repositories: {
		'kibana/kibana': {
			'9.1.9': tag('m-a', '2026-03-01T00:00:00.000Z'),
			'9.1.10': tag('m-b', '2026-01-01T00:00:00.000Z'),
		},
		'eck-dev/support-diagnostics': {
			latest: tag('m-c', '2026-02-20T00:00:00.000Z'),
			nightly: tag('m-a', '2026-01-15T00:00:00.000Z'),
		},
	},
};

test('keep N: versions by semver, other tags by when they were set; unreached blobs go namers first', (t) => {
	const plan = planImagePrune(images, {keepImageTags: 1});
	t.deepEqual(
		plan.tags.map(({repository, tag}) => `${repository}:${tag}`),
		['eck-dev/support-diagnostics:nightly', 'kibana/kibana:9.1.9'],
	);
	// m-a is reached by no kept tag any more; the shared layer still is.
	t.deepEqual(
		plan.blobs.map(({entry}) => entry.digest).sort(),
		[digest('m-a'), digest('l-a'), digest('leftover')].sort(),
	);
	t.true(
		plan.blobs.findIndex(({entry}) => entry.digest === digest('m-a')) <
			plan.blobs.findIndex(({entry}) => entry.digest === digest('l-a')),
	);
});

test('older than N days, and --unselected against --images', (t) => {
	const now = new Date('2026-03-10T00:00:00.000Z');
	const old = planImagePrune(images, {imageTagsOlderThan: 30}, now);
	t.deepEqual(
		old.tags.map(({repository, tag}) => `${repository}:${tag}`),
		['eck-dev/support-diagnostics:nightly', 'kibana/kibana:9.1.10'],
	);
	t.deepEqual(
		old.blobs.map(({entry}) => entry.digest).sort(),
		[digest('l-b'), digest('leftover'), digest('m-b')].sort(),
	);

	const unselected = planImagePrune(images, {
		images: [{repository: 'kibana/kibana'}, {repository: 'eck-dev/support-diagnostics', tag: 'latest'}],
	});
	t.deepEqual(
		unselected.tags.map(({repository, tag, reason}) => `${repository}:${tag} ${reason}`),
		['eck-dev/support-diagnostics:nightly no longer selected by the sync config (--images)'],
	);
	t.deepEqual(
		unselected.blobs.map(({entry}) => entry.digest),
		[digest('leftover')],
	);
});
