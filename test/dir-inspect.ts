/**
The directory store's inspect: one listing per folder for the sidecars and one stat per
artifact, with links, folders and missing sidecars reported as before.
*/
import {mkdir, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {wantedArtifacts} from '../src/agent/catalog.js';
import {directoryStore} from '../src/store/dir/store.js';
import {layout} from '../src/store/layout.js';
import {tempDir} from './helpers/temp.js';

test('inspect of a directory finds each artifact size and whether both sidecars are files, links followed', async (t) => {
	const root = await tempDir(t);
	const refs = wantedArtifacts({
		products: ['elastic-agent'],
		versions: ['9.1.0', '9.1.1', '9.1.2', '9.1.3', '9.1.4', '9.1.5'],
		platforms: ['linux-x86_64'],
		fips: false,
	});
	const [whole, oneSidecar, absent, linked, folder, dangling] = refs.map((ref) => ref.path) as [
		string,
		string,
		string,
		string,
		string,
		string,
	];
	const at = (relative: string) => path.join(root, relative);
	await mkdir(path.dirname(at(whole)), {recursive: true});
	for (const file of [whole, `${whole}.sha512`, `${whole}.asc`, oneSidecar, `${oneSidecar}.sha512`]) {
		await writeFile(at(file), 'x'.repeat(file === whole ? 7 : 3));
	}

	// Links count when they lead to a file, as a stat sees them.
	await writeFile(path.join(root, 'elsewhere'), '12345');
	await symlink(path.join(root, 'elsewhere'), at(linked));
	await symlink(path.join(root, 'elsewhere'), at(`${linked}.sha512`));
	await writeFile(at(`${linked}.asc`), 'sig');
	await mkdir(at(folder));
	await writeFile(at(`${folder}.sha512`), 'h');
	await writeFile(at(`${folder}.asc`), 's');
	await writeFile(at(dangling), 'abc');
	await writeFile(at(`${dangling}.sha512`), 'h');
	await symlink(path.join(root, 'nowhere'), at(`${dangling}.asc`));

	const held = await directoryStore(layout(root)).inspect(refs);
	t.deepEqual(held.get(whole), {size: 7, sidecars: true});
	t.deepEqual(held.get(oneSidecar), {size: 3, sidecars: false});
	t.deepEqual(held.get(absent), {size: undefined, sidecars: false});
	t.deepEqual(held.get(linked), {size: 5, sidecars: true});
	t.deepEqual(held.get(folder), {size: undefined, sidecars: true});
	t.deepEqual(held.get(dangling), {size: 3, sidecars: false});
	// A folder that does not exist is nothing held, not an error.
	const [elsewhere] = wantedArtifacts({
		products: ['fleet-server'],
		versions: ['9.1.0'],
		platforms: ['linux-x86_64'],
		fips: false,
	});
	t.deepEqual(
		(await directoryStore(layout(root)).inspect(elsewhere ? [elsewhere] : [])).get(elsewhere?.path ?? ''),
		{
			size: undefined,
			sidecars: false,
		},
	);
});
