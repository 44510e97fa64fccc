/**
Benchmark 11: what the machine allows for the download part of benchmark 4. The same
256 MiB file from the same nginx, into a file with its sha512 computed and fsynced,
by undici (the reference), by got alone (the project's HTTP client, as the project
configures it), and the project's whole sync command, alternating. Also the
SHA-256-signed copy of the large artifact that benchmark 4b syncs.
*/
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {link, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import {wantedArtifacts} from '../../src/agent/catalog.js';
import type {FixtureSet} from './fixtures.js';
import {median, type Run, timedWithUsage, usageText} from './lib.js';
import {measure, type Result} from './report.js';
import {type SyncBenchContext, syncArgs} from './sync-benches.js';

const root = path.resolve(import.meta.dirname, '../..');

/**
One download as a client library does it at its plainest: stream to a file, hash on
the way, fsync, print the sha512. Arguments: client (undici or got), URL, output file.
got gets the options the project gives it (keep-alive agent, no decoding, no retries).
*/
const clientScript = `
import {createHash} from 'node:crypto';
import {open} from 'node:fs/promises';
import http from 'node:http';
const [kind, url, out] = process.argv.slice(1);
const hash = createHash('sha512');
const file = await open(out, 'w');
let body;
if (kind === 'undici') {
	const {request} = await import('undici');
	({body} = await request(url));
} else {
	const {default: got} = await import('got');
	const agent = new http.Agent({keepAlive: true, maxSockets: 32});
	body = got.stream(url, {agent: {http: agent}, decompress: false, retry: {limit: 0}, throwHttpErrors: false});
}
for await (const chunk of body) {
	hash.update(chunk);
	await file.write(chunk);
}
await file.sync();
await file.close();
process.stdout.write(hash.digest('hex'));
process.exit(0);
`;

/** 11: the large file by undici, by got, and by the project's sync, alternating. */
export async function downloadReference(context: SyncBenchContext): Promise<Result> {
	context.log('11. one 256 MiB download: undici, got, and the whole sync');
	const fixture = context.fixtures.large;
	const ref = fixture.refs[0];
	if (!ref) {
		throw new Error('the large fixture has no artifact');
	}

	const url = `${context.upstream.url}/${ref.path}`;
	const expected = (
		await readFile(path.join(context.fixtures.upstreamDir, `${ref.path}.sha512`), 'utf8')
	).split(' ')[0];
	const out = path.join(context.runsDir, 'download.bin');
	const client = async (kind: 'undici' | 'got') => {
		await rm(out, {force: true});
		const run = await timedWithUsage(
			process.execPath,
			['--input-type=module', '-e', clientScript, kind, url, out],
			{cwd: root},
		);
		await rm(out, {force: true});
		if (run.stdout !== expected) {
			throw new Error(`${kind} download has sha512 ${run.stdout}, not ${expected}`);
		}

		return run;
	};

	const sync = async () => {
		const dir = path.join(context.runsDir, 'ours-11');
		await rm(dir, {recursive: true, force: true});
		const run = await timedWithUsage(process.execPath, syncArgs(context, dir, fixture), {cwd: root});
		await rm(dir, {recursive: true, force: true});
		return run;
	};

	const sides = {undici: [] as Run[], got: [] as Run[], sync: [] as Run[]};
	const order = ['undici', 'got', 'sync'] as const;
	for (let run = 0; run < context.repeat; run++) {
		// Rotate which side goes first, so none always gets the warmer cache.
		for (let index = 0; index < order.length; index++) {
			const side = order[(run + index) % order.length] as (typeof order)[number];
			sides[side].push(side === 'sync' ? await sync() : await client(side));
		}

		context.log(
			`    run ${run + 1}: undici ${sides.undici.at(-1)?.ms.toFixed(0)} ms, got ${sides.got.at(-1)?.ms.toFixed(0)} ms, sync ${sides.sync.at(-1)?.ms.toFixed(0)} ms`,
		);
	}

	context.commands.push(
		'11, reference: `node --input-type=module -e <script> undici|got <url> <file>` (stream to a file, sha512 on the way, fsync; script in scripts/bench/download-benches.ts); the sync: the command of 4',
	);
	const ms = (runs: Run[]) => runs.map((run) => run.ms);
	const undici = median(ms(sides.undici));
	const got = median(ms(sides.got));
	const whole = median(ms(sides.sync));
	return {
		id: '11',
		title: 'Download of one 256 MiB file + sha512 + fsync: got beside undici (wall time)',
		ours: measure(ms(sides.got), 'ms', got),
		theirs: {...measure(ms(sides.undici), 'ms', undici), label: 'undici'},
		extra: {
			'the whole sync (4)': `${ms(sides.sync)
				.map((value) => value.toFixed(0))
				.join(', ')} ms, median ${whole.toFixed(0)} ms, ${(whole / undici).toFixed(2)}x undici`,
			'undici usage': usageText(sides.undici),
			'got usage': usageText(sides.got),
			'sync usage': usageText(sides.sync),
		},
		target: 'got <= 1.15x undici',
		met: got / undici <= 1.15,
	};
}

/** The large artifact signed with SHA-256 (benchmark 4b), and the key that signed it. */
export type Sha256Fixture = {
	readonly set: FixtureSet;
	/** Armored public key, for `sync --trusted-key`. */
	readonly keyAsc: string;
	/** Binary public key, a keyring for `gpgv --keyring`. */
	readonly keyGpg: string;
};

/**
The large artifact's bytes (a hard link) under another version, with a detached
signature made with SHA-256 by a key of its own. Made once per work folder.
*/
export async function ensureSha256Fixture(
	context: Pick<SyncBenchContext, 'fixtures' | 'log'>,
	workDir: string,
): Promise<Sha256Fixture> {
	const products = ['elastic-agent'];
	const versions = ['9.3.9'];
	const platforms = ['linux-x86_64'];
	const refs = wantedArtifacts({products, versions, platforms, fips: false});
	const large = context.fixtures.large.refs[0];
	const ref = refs[0];
	if (!large || !ref) {
		throw new Error('no artifact paths for the SHA-256 fixture');
	}

	const dir = path.join(workDir, 'sha256-signer');
	const keyAsc = path.join(dir, 'key.asc');
	const keyGpg = path.join(dir, 'key.gpg');
	const set = {products, versions, platforms, refs, bytes: context.fixtures.large.bytes};
	const stamp = path.join(dir, '.complete');
	if (existsSync(stamp)) {
		return {set, keyAsc, keyGpg};
	}

	context.log('generating the SHA-256-signed copy of the large artifact (once)');
	await mkdir(dir, {recursive: true});
	const {privateKey, publicKey} = await openpgp.generateKey({
		type: 'rsa',
		rsaBits: 2048,
		userIDs: [{name: 'Benchmark SHA-256 Signer', email: 'sha256@bench.test'}],
		format: 'object',
	});
	const source = path.join(context.fixtures.upstreamDir, large.path);
	const target = path.join(context.fixtures.upstreamDir, ref.path);
	await mkdir(path.dirname(target), {recursive: true});
	await rm(target, {force: true});
	await link(source, target);
	const body = await readFile(target);
	const signature = await openpgp.sign({
		message: await openpgp.createMessage({binary: body}),
		signingKeys: privateKey,
		detached: true,
		format: 'armored',
		config: {preferredHashAlgorithm: openpgp.enums.hash.sha256},
	});
	await writeFile(
		`${target}.sha512`,
		`${createHash('sha512').update(body).digest('hex')}  ${ref.fileName}\n`,
	);
	await writeFile(`${target}.asc`, signature);
	await writeFile(keyAsc, publicKey.armor());
	await writeFile(keyGpg, publicKey.write());
	await writeFile(stamp, new Date().toISOString());
	return {set, keyAsc, keyGpg};
}
