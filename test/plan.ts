import test from 'ava';
import {wantedArtifacts} from '../src/agent/catalog.js';
import {type LocalFile, plan} from '../src/agent/plan.js';
import {emptyManifest, type Manifest} from '../src/store/manifest.js';

const [release, snapshot] = wantedArtifacts({
	products: ['elastic-agent'],
	versions: ['9.1.3', '9.2.0-SNAPSHOT'],
	platforms: ['linux-x86_64'],
	fips: false,
});

function manifestWith(...paths: string[]): Manifest {
	const manifest = emptyManifest();
	for (const path of paths) {
		manifest.files[path] = {
			path,
			product: 'elastic-agent',
			version: '',
			platform: '',
			fips: false,
			size: 10,
			sha512: 'x',
			publishedAt: '',
		};
	}

	return manifest;
}

const decide = (manifest: Manifest, local: Record<string, LocalFile>) =>
	plan(
		[release, snapshot].filter((ref) => ref !== undefined),
		manifest,
		new Map(Object.entries(local)),
	).map((action) => `${action.kind}: ${action.reason}`);

test('nothing on disk: fetch everything', (t) => {
	t.deepEqual(decide(emptyManifest(), {}), ['fetch: new', 'fetch: new']);
});

test('published and intact: releases are skipped, prereleases are checked upstream', (t) => {
	const local = {
		[release?.path ?? '']: {size: 10, sidecars: true},
		[snapshot?.path ?? '']: {size: 10, sidecars: true},
	};
	t.deepEqual(decide(manifestWith(release?.path ?? '', snapshot?.path ?? ''), local), [
		'skip: already published',
		'refresh: prerelease: checking upstream for a rebuild',
	]);
});

test('a manifest that disagrees with the disk is not trusted', (t) => {
	const manifest = manifestWith(release?.path ?? '', snapshot?.path ?? '');
	t.deepEqual(decide(manifest, {[release?.path ?? '']: {size: 9, sidecars: true}}), [
		'fetch: size on disk differs from the manifest',
		'fetch: in the manifest but missing on disk',
	]);
	t.deepEqual(
		decide(manifest, {[release?.path ?? '']: {size: 10, sidecars: false}})[0],
		'fetch: a sidecar is missing on disk',
	);
});

test('files on disk unknown to the manifest are adopted when complete, refetched when not', (t) => {
	t.deepEqual(
		decide(emptyManifest(), {
			[release?.path ?? '']: {size: 10, sidecars: true},
			[snapshot?.path ?? '']: {size: 10, sidecars: false},
		}),
		['adopt: on disk but not in the manifest: verifying it', 'fetch: on disk without its sidecars'],
	);
});
