/**
The writer's periodic manifest saves are spaced by their own cost, so a large mirror's
first sync does not spend most of its time rewriting the manifest.
*/
import {setTimeout as sleep} from 'node:timers/promises';
import test from 'ava';
import {wantedArtifacts} from '../src/agent/catalog.js';
import {openWriter} from '../src/mirror/writer.js';
import {emptyManifest} from '../src/store/manifest.js';
import type {MirrorStore} from '../src/store/store.js';

test('periodic manifest saves are spaced by ten times the last save, so they take at most a tenth of a run', async (t) => {
	const saves: number[] = [];
	// A store whose manifest takes 60 ms to write, as a large one does.
	const store = {
		readManifest: async () => ({manifest: emptyManifest()}),
		writeManifest: async () => {
			saves.push(performance.now());
			await sleep(60);
		},
	} as unknown as MirrorStore;
	const {writer} = await openWriter(store, {saveEveryMs: 20});
	const refs = wantedArtifacts({
		products: ['elastic-agent'],
		versions: Array.from({length: 150}, (_, index) => `8.0.${index}`),
		platforms: ['linux-x86_64'],
		fips: false,
	});
	const facts = {size: 1, sha512: 'ab'.repeat(64), publishedAt: new Date()};
	const started = performance.now();
	for (const ref of refs) {
		writer.recordArtifact(ref, facts);
		await sleep(10);
	}

	const ran = performance.now() - started;
	writer.stop();
	const periodic = [...saves];
	await writer.save();
	// Every 20 ms would be a save per 80 ms of the run. Spaced by 600 ms once a save has
	// been timed (the first few are queued before any was), they are a handful.
	t.true(periodic.length >= 2, `${periodic.length} saves`);
	t.true(periodic.length <= 4 + ran / 550, `${periodic.length} saves in ${ran.toFixed(0)} ms`);
	const last = (periodic.at(-1) ?? 0) - (periodic.at(-2) ?? 0);
	t.true(periodic.length < 5 || last >= 550, `the last two saves ${last.toFixed(0)} ms apart`);

	t.is(Object.keys(writer.manifest.files).length, refs.length);
});
