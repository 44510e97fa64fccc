/** Key files: every key in every armored block must be trusted, in sync, import and verify. */

import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {exportBundle} from '../src/bundle/export.js';
import {importBundle} from '../src/bundle/import.js';
import {concatParts} from '../src/bundle/parts.js';
import {BundleError} from '../src/errors.js';
import {dirLocation} from '../src/store/location.js';
import {checkKeyFile, loadTrustedKeys} from '../src/trust/keys.js';
import {createTestKey, type TestKey} from './helpers/keys.js';
import {runCli, runSync, syncFlags} from './helpers/run.js';
import {listFiles, tempDir} from './helpers/temp.js';
import {sameTree, treeContents} from './helpers/tree.js';
import {withUpstream} from './helpers/with-upstream.js';

let key: TestKey;
let intruder: TestKey;
test.before(async () => {
	[key, intruder] = await Promise.all([createTestKey(), createTestKey('Intruder')]);
});

/** The trusted key followed by a second armored block: what `gpg --import` reads whole. */
const twoBlocks = () => `${key.armoredPublic}\n${intruder.armoredPublic}`;

test('checkKeyFile reads every armored block: a second, untrusted block is found; other blocks are refused', async (t) => {
	const dir = await tempDir(t);
	const trusted = await loadTrustedKeys([await key.writePublic(dir)]);
	const result = await checkKeyFile(twoBlocks(), trusted);
	t.deepEqual(result.fingerprints, [key.fingerprint, intruder.fingerprint]);
	t.true(result.untrusted.includes(intruder.fingerprint));
	t.false(result.untrusted.includes(key.fingerprint));
	t.deepEqual((await checkKeyFile(`\n${key.armoredPublic}\n\n`, trusted)).untrusted, []);
	// The trusted key twice is still only trusted keys.
	t.deepEqual((await checkKeyFile(`${key.armoredPublic}\n${key.armoredPublic}`, trusted)).untrusted, []);
	// A subkey added to the trusted primary is not a trusted key either.
	const extended = (await key.privateKey.addSubkey({})).toPublic();
	const added = extended.subkeys.at(-1)?.getFingerprint().toUpperCase();
	t.deepEqual((await checkKeyFile(extended.armor(), trusted)).untrusted, [added]);
	const privateBlock = key.privateKey.armor();
	await t.throwsAsync(checkKeyFile(`${key.armoredPublic}\n${privateBlock}`, trusted), {
		message: /not only public keys/,
	});
	await t.throwsAsync(checkKeyFile(`${key.armoredPublic}\nsome text`, trusted), {message: /outside/});
	await t.throwsAsync(checkKeyFile(key.armoredPublic.split('\n').slice(0, -3).join('\n'), trusted), {
		message: /no end line/,
	});
});

test('sync does not mirror an upstream key file with a second, untrusted block', async (t) => {
	const setup = await withUpstream(t, key, {
		versions: ['9.1.3'],
		platforms: ['linux-x86_64'],
		rootKey: twoBlocks(),
	});
	const {summary, events} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {versions: '9.1.3', platforms: 'linux-x86_64'}),
	);
	t.is(summary.result, 'success');
	const files = await listFiles(setup.dir);
	t.false(files.includes('GPG-KEY-elastic-agent'));
	t.false(files.includes('GPG-KEY-elasticsearch'));
	const warnings = events.flatMap((event) => (event.type === 'warning' ? [event.message] : []));
	t.true(
		warnings.some((message) =>
			message.startsWith(`GPG-KEY-elastic-agent upstream holds key ${intruder.fingerprint}`),
		),
		warnings.join('\n'),
	);
});

test('import refuses a bundle whose key file has a second, untrusted block; verify reports it in the tree', async (t) => {
	const setup = await withUpstream(t, key, {versions: ['9.1.3'], platforms: ['linux-x86_64']});
	const flags = syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
		versions: '9.1.3',
		platforms: 'linux-x86_64',
	});
	t.is((await runSync(flags)).summary.result, 'success');
	const keyFile = path.join(setup.dir, 'GPG-KEY-elastic-agent');
	t.is(await readFile(keyFile, 'utf8'), key.armoredPublic);

	// The served file grows a second block: verify must say so (exit 1).
	await writeFile(keyFile, twoBlocks());
	const verify = await runCli(['verify', '--dir', setup.dir, '--trusted-key', setup.keyPath]);
	t.is(verify.code, 1, verify.stdout);
	t.regex(verify.stdout, new RegExp(`bad: GPG-KEY-elastic-agent: holds key ${intruder.fingerprint}`));

	// A bundle exported from that tree carries the two-block file: import refuses it, changes nothing.
	const out = path.join(await tempDir(t), 'bundle.tar');
	await exportBundle({location: dirLocation(setup.dir), out, selection: {}});
	const target = await tempDir(t);
	const before = await treeContents(target);
	const error = await t.throwsAsync(
		importBundle({
			location: dirLocation(target),
			input: concatParts([out]),
			trustedKeyPaths: [setup.keyPath],
		}),
		{instanceOf: BundleError},
	);
	t.regex(
		error?.message ?? '',
		new RegExp(`^GPG-KEY-elastic-agent in the bundle holds key ${intruder.fingerprint}`),
	);
	t.true(sameTree(before, await treeContents(target)));
	t.false((await listFiles(target)).some((file) => !file.startsWith('.mirror/')));
});
