/**
Mirrors that hold integration packages without a sync: package versions (built here,
or the fake registry's) published through the writer exactly as sync publishes them,
so export/import, verify, prune, package-paths and serve can be tested on their own.
*/
import {createHash} from 'node:crypto';
import yazl from 'yazl';
import {openWriter} from '../../src/mirror/writer.js';
import {packagePaths, parsePackagePath} from '../../src/packages/catalog.js';
import type {StoreLocation} from '../../src/store/location.js';
import {openStore} from '../../src/store/open.js';
import {goJson} from './fake-registry-build.js';
import type {TestKey} from './keys.js';

/**
One package version as a registry serves it: what publishPackages needs (a FakePackage
of the fake registry is one; its name and version come from the zip path).
*/
export type MirrorablePackage = {
	/** `epr/<n>/<n>-<v>.zip`. */
	readonly zipPath: string;
	readonly zip: Buffer;
	/** The armored detached signature of the zip. */
	readonly signature: string;
	/** The package info (`/package/<n>/<v>/`). */
	readonly info: Record<string, unknown>;
	/** The version's `/search` entry. */
	readonly searchEntry: Record<string, unknown>;
};

/** What a built test package declares. */
export type PackageSpec = {
	readonly name: string;
	readonly version: string;
	/** `conditions.kibana.version`; default `^8.0.0 || ^9.0.0`. */
	readonly kibana?: string;
	readonly type?: 'integration' | 'input' | 'content';
	/** `requires` as the manifest writes it. */
	readonly requires?: {
		readonly input?: ReadonlyArray<{package: string; version: string}>;
		readonly content?: ReadonlyArray<{package: string; version: string}>;
	};
};

async function zipOf(files: Record<string, string>): Promise<Buffer> {
	const zip = new yazl.ZipFile();
	for (const [name, text] of Object.entries(files)) {
		zip.addBuffer(Buffer.from(text), name, {mtime: new Date('2026-01-01T00:00:00Z')});
	}

	zip.end();
	const chunks: Buffer[] = [];
	for await (const chunk of zip.outputStream) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

/** A package version built here: a MirrorablePackage that also says its name and version. */
export type BuiltPackage = MirrorablePackage & {readonly name: string; readonly version: string};

/** A signed package version with a manifest, a README and agreeing info and search entry. */
export async function buildPackage(key: TestKey, spec: PackageSpec): Promise<BuiltPackage> {
	const {name, version} = spec;
	const top = `${name}-${version}`;
	const kibana = spec.kibana ?? '^8.0.0 || ^9.0.0';
	const type = spec.type ?? 'integration';
	const title = `${name} test package`;
	const requires = spec.requires ? {requires: spec.requires} : {};
	const manifest = [
		'format_version: 3.3.0',
		`name: ${name}`,
		`title: ${title}`,
		`version: ${version}`,
		`type: ${type}`,
		'conditions:',
		'  kibana:',
		`    version: "${kibana}"`,
		...(spec.requires ? [`requires: ${JSON.stringify(spec.requires)}`] : []),
		'',
	].join('\n');
	const zip = await zipOf({
		[`${top}/manifest.yml`]: manifest,
		[`${top}/docs/README.md`]: `# ${title}\n\nVersion ${version}.\n`,
	});
	const paths = packagePaths(name, version);
	const base = {
		name,
		title,
		version,
		release: 'ga',
		description: `The ${name} package`,
		type,
		download: `/${paths.zip}`,
		path: `/package/${name}/${version}`,
		conditions: {kibana: {version: kibana}},
		owner: {github: 'elastic/integrations', type: 'elastic'},
		categories: ['observability'],
		signature_path: `/${paths.signature}`,
		...requires,
	};
	return {
		name,
		version,
		zipPath: paths.zip,
		zip,
		signature: await key.sign(zip),
		info: {...base, format_version: '3.3.0'},
		searchEntry: base,
	};
}

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/** The info bytes a mirror keeps for `pkg`: the JSON as the registry (Go's encoder) answers it. */
export function infoBytes(pkg: MirrorablePackage): Buffer {
	return Buffer.from(goJson(pkg.info));
}

/** Publish `packages` into the mirror at `location` through the writer, as sync would. */
export async function publishPackages(
	location: StoreLocation,
	packages: readonly MirrorablePackage[],
): Promise<void> {
	const store = await openStore({location});
	try {
		const lock = await store.lock(() => undefined);
		try {
			const {writer} = await openWriter(store);
			for (const pkg of packages) {
				const version = parsePackagePath(pkg.zipPath);
				if (!version) {
					throw new Error(`not a package zip path: ${pkg.zipPath}`);
				}

				const paths = packagePaths(version.name, version.version);
				const signature = Buffer.from(pkg.signature);
				const info = infoBytes(pkg);
				await writer.publishPackage({
					files: [
						{relative: paths.signature, from: {data: signature}},
						{relative: paths.zip, from: {data: pkg.zip}},
						{relative: paths.info, from: {data: info}},
					],
					entry: {
						path: paths.zip,
						name: version.name,
						version: version.version,
						size: pkg.zip.length,
						sha512: sha512(pkg.zip),
						signature: {size: signature.length, sha512: sha512(signature)},
						info: {size: info.length, sha512: sha512(info)},
						formatVersion: String(pkg.info.format_version),
						search: pkg.searchEntry,
					},
				});
			}

			await writer.save({always: true});
		} finally {
			await lock.release();
		}
	} finally {
		store.close();
	}
}
