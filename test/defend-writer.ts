/**
The writer's Defend rules: a manifest is published only after every artifact it names
is listed, an artifact a listed manifest names cannot be removed, and quarantining a
file takes the manifests naming it out with it, so no served manifest ever names a
missing file.
*/
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {openWriter} from '../src/mirror/writer.js';
import {layout} from '../src/store/layout.js';
import {dirLocation} from '../src/store/location.js';
import {readManifest} from '../src/store/manifest.js';
import {openStore} from '../src/store/open.js';
import {listFiles, tempDir} from './helpers/temp.js';

const artifactPath = (name: string) => `downloads/endpoint/artifacts/${name}-v1/${'a'.repeat(64)}`;
const manifestPath = (version: string) => `downloads/endpoint/manifest/artifacts-${version}.zip`;

const artifactEntry = (name: string) => ({
	path: artifactPath(name),
	size: 3,
	sha512: 'ab'.repeat(64),
	encodedSha256: 'cd'.repeat(32),
	decodedSha256: 'ef'.repeat(32),
	decodedSize: 5,
	compression: 'zlib' as const,
});

const versionEntry = (version: string, artifacts: string[]) => ({
	version,
	path: manifestPath(version),
	size: 4,
	sha512: '12'.repeat(64),
	manifestVersion: '1.0.1',
	schemaVersion: 'v1',
	artifacts,
	refreshedAt: new Date().toISOString(),
});

test('Defend publish order, removal and quarantine keep every served manifest whole', async (t) => {
	const dir = await tempDir(t);
	const store = await openStore({location: dirLocation(dir)});
	t.teardown(() => store.close());
	const {writer} = await openWriter(store);

	// A manifest naming an artifact not yet listed is refused before anything is written.
	const early = await t.throwsAsync(
		writer.publishDefendManifest(
			{relative: manifestPath('9.1.3'), from: {data: Buffer.from('zip!')}},
			versionEntry('9.1.3', [artifactPath('a')]),
		),
	);
	t.regex(
		early?.message ?? '',
		/would name downloads\/endpoint\/artifacts\/a-v1\/a+, which is not published/,
	);
	t.false((await listFiles(dir)).includes(manifestPath('9.1.3')));

	for (const name of ['a', 'b']) {
		await writer.publishDefendArtifact(
			{relative: artifactPath(name), from: {data: Buffer.from(name.repeat(3))}},
			artifactEntry(name),
		);
	}

	await writer.publishDefendManifest(
		{relative: manifestPath('9.1.3'), from: {data: Buffer.from('zip1')}},
		versionEntry('9.1.3', [artifactPath('a'), artifactPath('b')]),
	);
	await writer.publishDefendManifest(
		{relative: manifestPath('9.0.7'), from: {data: Buffer.from('zip2')}},
		versionEntry('9.0.7', [artifactPath('b')]),
	);
	await writer.save({always: true});
	t.is(await readFile(path.join(dir, manifestPath('9.1.3')), 'utf8'), 'zip1');
	const {manifest} = await readManifest(layout(dir));
	t.deepEqual(Object.keys(manifest.defend.versions).sort(), ['9.0.7', '9.1.3']);
	t.is(Object.keys(manifest.defend.artifacts).length, 2);

	// An artifact a listed manifest names stays.
	const named = await t.throwsAsync(writer.removeDefendArtifact(artifactPath('b')));
	t.regex(
		named?.message ?? '',
		/is named by the manifest of 9\.1\.3, 9\.0\.7|is named by the manifest of 9\.0\.7, 9\.1\.3/,
	);

	// Refreshing keeps the entry and moves its time.
	const before = writer.manifest.defend.versions['9.0.7']?.refreshedAt;
	writer.refreshDefendVersion('9.0.7', new Date(Date.now() + 60_000), {etag: '"abc"'});
	t.not(writer.manifest.defend.versions['9.0.7']?.refreshedAt, before);
	t.is(writer.manifest.defend.versions['9.0.7']?.etag, '"abc"');

	// Quarantining b takes out both manifests naming it, and only them.
	const quarantine = store.quarantine('2026-11-30T00-00-00.000Z');
	await writer.quarantineDefend(artifactPath('b'), quarantine);
	await writer.save({always: true});
	const files = await listFiles(dir);
	t.false(files.includes(manifestPath('9.1.3')));
	t.false(files.includes(manifestPath('9.0.7')));
	t.false(files.includes(artifactPath('b')));
	t.true(
		files.includes(artifactPath('a')),
		'a is named by no listed manifest now, but stays for prune to decide',
	);
	const after = (await readManifest(layout(dir))).manifest;
	t.deepEqual(after.defend.versions, {});
	t.deepEqual(Object.keys(after.defend.artifacts), [artifactPath('a')]);

	// Nothing names a now: it can be removed.
	await writer.removeDefendArtifact(artifactPath('a'));
	await writer.save({always: true});
	t.deepEqual((await readManifest(layout(dir))).manifest.defend.artifacts, {});
	t.false(
		(await readFile(path.join(layout(dir).manifest), 'utf8')).includes('"defend"'),
		'an empty section is not written',
	);
});
