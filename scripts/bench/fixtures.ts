/**
The files the benchmarks work on: an upstream tree laid out like artifacts.elastic.co,
with real `.sha512` sidecars and real detached signatures by an RSA 2048 key (the
kind Elastic signs with). Generated once per work folder and reused.
*/
import {createHash, randomBytes} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import {type ArtifactRef, keyFiles, wantedArtifacts} from '../../src/agent/catalog.js';

/** One group of artifacts and the sync flags that select exactly it. */
export type FixtureSet = {
	readonly products: readonly string[];
	readonly versions: readonly string[];
	readonly platforms: readonly string[];
	readonly refs: readonly ArtifactRef[];
	readonly bytes: number;
};

export type Fixtures = {
	readonly upstreamDir: string;
	/** Armored public key, for `sync --trusted-key`. */
	readonly keyAsc: string;
	/** Binary public key, a keyring for `gpgv --keyring`. */
	readonly keyGpg: string;
	/** One 256 MiB artifact. */
	readonly large: FixtureSet;
	/** One 32 MiB artifact (8d: 1,000 full downloads through S3 in minutes, not an hour). */
	readonly medium: FixtureSet;
	/** 300 artifacts of 100 KiB to 5 MiB. */
	readonly many: FixtureSet;
	/** 3,000 small artifacts across products and versions. */
	readonly scale: FixtureSet;
};

const archivesAndPackages = [
	'linux-x86_64',
	'linux-arm64',
	'darwin-x86_64',
	'darwin-aarch64',
	'windows-x86_64',
	'deb-amd64',
	'deb-arm64',
	'rpm-x86_64',
	'rpm-aarch64',
];

function set(
	products: string[],
	versions: string[],
	platforms: string[],
	sizeOf: (index: number) => number,
): FixtureSet & {sizes: number[]} {
	const refs = wantedArtifacts({products, versions, platforms, fips: false});
	const sizes = refs.map((_, index) => sizeOf(index));
	return {products, versions, platforms, refs, sizes, bytes: sizes.reduce((sum, size) => sum + size, 0)};
}

/** Deterministic sizes spread over [min, max], so every run sees the same set. */
function spread(min: number, max: number): (index: number) => number {
	return (index) => {
		const x = Math.sin(index * 12.9898) * 43_758.5453;
		return Math.floor(min + (x - Math.floor(x)) * (max - min));
	};
}

function range(from: number, to: number): number[] {
	return Array.from({length: to - from + 1}, (_, index) => from + index);
}

function plan() {
	const large = set(['elastic-agent'], ['9.3.0'], ['linux-x86_64'], () => 256 * 1024 ** 2);
	const medium = set(['elastic-agent'], ['9.3.1'], ['linux-x86_64'], () => 32 * 1024 ** 2);
	const many = set(
		['elastic-agent'],
		range(0, 29).map((patch) => `9.2.${patch}`),
		[...archivesAndPackages, 'msi-x86_64'],
		spread(100 * 1024, 5 * 1024 ** 2),
	);
	const scale = set(
		[
			'elastic-agent',
			'fleet-server',
			'endpoint-security',
			'apm-server',
			'filebeat',
			'metricbeat',
			'cloudbeat',
		],
		range(14, 19).flatMap((minor) => range(0, 9).map((patch) => `8.${minor}.${patch}`)),
		[...archivesAndPackages, 'msi-x86_64', 'windows-arm64'],
		() => 16 * 1024,
	);
	return {large, medium, many, scale};
}

async function writeArtifact(
	root: string,
	ref: ArtifactRef,
	body: Buffer,
	privateKey: openpgp.PrivateKey,
): Promise<void> {
	const file = path.join(root, ref.path);
	await mkdir(path.dirname(file), {recursive: true});
	const signature = await openpgp.sign({
		message: await openpgp.createMessage({binary: body}),
		signingKeys: privateKey,
		detached: true,
		format: 'armored',
	});
	const digest = createHash('sha512').update(body).digest('hex');
	await writeFile(file, body);
	await writeFile(`${file}.sha512`, `${digest}  ${ref.fileName}\n`);
	await writeFile(`${file}.asc`, signature);
}

/** Generate the fixtures under `workDir`, or reuse the ones there. */
export async function ensureFixtures(workDir: string, log: (line: string) => void): Promise<Fixtures> {
	const upstreamDir = path.join(workDir, 'upstream');
	const keyAsc = path.join(workDir, 'key.asc');
	const keyGpg = path.join(workDir, 'key.gpg');
	const stamp = path.join(upstreamDir, '.complete-v2');
	const sets = plan();
	const fixtures = {upstreamDir, keyAsc, keyGpg, ...sets};
	if (existsSync(stamp)) {
		log(`reusing fixtures in ${upstreamDir}`);
		return fixtures;
	}

	log(`generating fixtures in ${upstreamDir} (once; about 1.2 GiB)`);
	await mkdir(upstreamDir, {recursive: true});
	const {privateKey, publicKey} = await openpgp.generateKey({
		type: 'rsa',
		rsaBits: 2048,
		userIDs: [{name: 'Benchmark Release Signer', email: 'release@bench.test'}],
		format: 'object',
	});
	await writeFile(keyAsc, publicKey.armor());
	await writeFile(keyGpg, publicKey.write());
	for (const name of keyFiles) {
		await writeFile(path.join(upstreamDir, name), publicKey.armor());
	}

	for (const [name, fixture] of Object.entries(sets)) {
		const started = Date.now();
		for (const [index, ref] of fixture.refs.entries()) {
			await writeArtifact(upstreamDir, ref, randomBytes(fixture.sizes[index] ?? 0), privateKey);
		}

		log(`  ${name}: ${fixture.refs.length} artifacts in ${Date.now() - started} ms`);
	}

	await writeFile(stamp, new Date().toISOString());
	return fixtures;
}

/** The `sync` selection flags for a set. */
export function selectionFlags(fixture: FixtureSet): string[] {
	return [
		'--products',
		fixture.products.join(','),
		'--versions',
		fixture.versions.join(','),
		'--platforms',
		fixture.platforms.join(','),
	];
}
