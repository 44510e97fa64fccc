/**
What artifacts.elastic.co publishes and where: products, platforms, file names and
paths. Pure data and functions; nothing here touches the network or the disk.
*/
import semver from 'semver';

/** An install or upgrade package format, as upstream names them. */
export type PackageType = 'tar' | 'zip' | 'deb' | 'rpm' | 'msi';

/** One platform id the user can select, and the file name suffix it maps to. */
export type Platform = {
	readonly id: string;
	/** What follows `<product>-<version>-` in the file name. */
	readonly suffix: string;
	readonly type: PackageType;
	readonly os: 'linux' | 'darwin' | 'windows';
	readonly architecture: string;
};

/** The platforms a mirror can select, in the order listings show them. */
export const platforms: readonly Platform[] = [
	{id: 'linux-x86_64', suffix: 'linux-x86_64.tar.gz', type: 'tar', os: 'linux', architecture: 'x86_64'},
	{id: 'linux-arm64', suffix: 'linux-arm64.tar.gz', type: 'tar', os: 'linux', architecture: 'arm64'},
	{id: 'darwin-x86_64', suffix: 'darwin-x86_64.tar.gz', type: 'tar', os: 'darwin', architecture: 'x86_64'},
	{id: 'darwin-aarch64', suffix: 'darwin-aarch64.tar.gz', type: 'tar', os: 'darwin', architecture: 'aarch64'},
	{id: 'windows-x86_64', suffix: 'windows-x86_64.zip', type: 'zip', os: 'windows', architecture: 'x86_64'},
	{id: 'deb-amd64', suffix: 'amd64.deb', type: 'deb', os: 'linux', architecture: 'amd64'},
	{id: 'deb-arm64', suffix: 'arm64.deb', type: 'deb', os: 'linux', architecture: 'arm64'},
	{id: 'rpm-x86_64', suffix: 'x86_64.rpm', type: 'rpm', os: 'linux', architecture: 'x86_64'},
	{id: 'rpm-aarch64', suffix: 'aarch64.rpm', type: 'rpm', os: 'linux', architecture: 'aarch64'},
	{id: 'msi-x86_64', suffix: 'windows-x86_64.msi', type: 'msi', os: 'windows', architecture: 'x86_64'},
	// Older or rarer builds, never selected by default.
	{id: 'linux-x86', suffix: 'linux-x86.tar.gz', type: 'tar', os: 'linux', architecture: 'x86'},
	{id: 'windows-x86', suffix: 'windows-x86.zip', type: 'zip', os: 'windows', architecture: 'x86'},
	{id: 'windows-arm64', suffix: 'windows-arm64.zip', type: 'zip', os: 'windows', architecture: 'arm64'},
];

/** The platforms `sync` selects when none are given: what `elastic-agent upgrade` uses. */
export const defaultPlatformIds: readonly string[] = [
	'linux-x86_64',
	'linux-arm64',
	'darwin-x86_64',
	'darwin-aarch64',
	'windows-x86_64',
];

/** A product upstream publishes, where its files live and which platforms it builds. */
export type Product = {
	readonly name: string;
	/** The folder under `downloads/`. */
	readonly folder: string;
	readonly platformIds: readonly string[];
	/** Whether FIPS builds (`<name>-fips-<version>-...`) exist from 8.19 / 9.1 on. */
	readonly fips: boolean;
};

const archives = ['linux-x86_64', 'linux-arm64', 'darwin-x86_64', 'darwin-aarch64', 'windows-x86_64'];
const archivesAndPackages = [...archives, 'deb-amd64', 'deb-arm64', 'rpm-x86_64', 'rpm-aarch64'];
const legacy = ['linux-x86', 'windows-x86'];

function beat(name: string): Product {
	return {name, folder: `beats/${name}`, platformIds: [...archivesAndPackages, ...legacy], fips: false};
}

/** Every product the mirror knows, from PROTOCOL.md's table. */
export const products: readonly Product[] = [
	{
		name: 'elastic-agent',
		folder: 'beats/elastic-agent',
		platformIds: [...archivesAndPackages, 'msi-x86_64', ...legacy, 'windows-arm64'],
		fips: true,
	},
	{name: 'fleet-server', folder: 'fleet-server', platformIds: archives, fips: false},
	{name: 'apm-server', folder: 'apm-server', platformIds: [...archivesAndPackages, ...legacy], fips: false},
	{name: 'endpoint-security', folder: 'endpoint-dev', platformIds: archives, fips: false},
	beat('filebeat'),
	beat('metricbeat'),
	beat('auditbeat'),
	beat('heartbeat'),
	beat('packetbeat'),
	beat('osquerybeat'),
	{name: 'cloudbeat', folder: 'cloudbeat', platformIds: ['linux-x86_64', 'linux-arm64'], fips: false},
];

/** FIPS builds are Linux only. */
const fipsPlatformIds = new Set([
	'linux-x86_64',
	'linux-arm64',
	'deb-amd64',
	'deb-arm64',
	'rpm-x86_64',
	'rpm-aarch64',
]);

/** The two signing keys upstream serves at its root. */
export const keyFiles = ['GPG-KEY-elasticsearch', 'GPG-KEY-elastic-agent'] as const;

/** The sidecars every artifact has, in the order a reader checks them. */
export const sidecarExtensions = ['.sha512', '.asc'] as const;

/**
An artifact's files in the order they leave the tree: the artifact first, then its
sidecars (the reverse of publishing), so a reader never finds it without them.
*/
export function artifactFiles(artifactPath: string): string[] {
	return [artifactPath, ...sidecarExtensions.map((extension) => artifactPath + extension)];
}

const productsByName = new Map(products.map((product) => [product.name, product]));
const platformsById = new Map(platforms.map((platform) => [platform.id, platform]));

/** Look up a product by name. */
export function getProduct(name: string): Product | undefined {
	return productsByName.get(name);
}

/** Look up a platform by id. */
export function getPlatform(id: string): Platform | undefined {
	return platformsById.get(id);
}

/** One file the mirror wants: a (product, version, platform) and where it lives. */
export type ArtifactRef = {
	readonly product: string;
	readonly version: string;
	readonly platform: string;
	readonly fips: boolean;
	/** Base name, e.g. `elastic-agent-9.1.0-linux-x86_64.tar.gz`. */
	readonly fileName: string;
	/** Path relative to the mirror root and upstream root, always with `/`. */
	readonly path: string;
};

/** Whether upstream publishes FIPS builds of `version` (8.19.x and 9.1.0 on). */
export function hasFipsBuilds(version: string): boolean {
	const parsed = semver.parse(version);
	if (!parsed) {
		return false;
	}

	return (
		(parsed.major === 8 && parsed.minor >= 19) ||
		(parsed.major === 9 && parsed.minor >= 1) ||
		parsed.major > 9
	);
}

/** The artifact for one product, version and platform. */
export function artifactRef(
	product: Product,
	version: string,
	platform: Platform,
	fips = false,
): ArtifactRef {
	const base = fips ? `${product.name}-fips` : product.name;
	const fileName = `${base}-${version}-${platform.suffix}`;
	return {
		product: product.name,
		version,
		platform: platform.id,
		fips,
		fileName,
		path: `downloads/${product.folder}/${fileName}`,
	};
}

/**
Every artifact wanted for a selection. A product is only asked for the platforms it
builds, and FIPS builds only where they exist.
*/
export function wantedArtifacts(selection: {
	products: readonly string[];
	versions: readonly string[];
	platforms: readonly string[];
	fips: boolean;
}): ArtifactRef[] {
	const wanted: ArtifactRef[] = [];
	for (const productName of selection.products) {
		const product = getProduct(productName);
		if (!product) {
			throw new Error(`unknown product ${productName}`);
		}

		for (const version of selection.versions) {
			for (const platformId of selection.platforms) {
				const platform = getPlatform(platformId);
				if (!platform || !product.platformIds.includes(platformId)) {
					continue;
				}

				wanted.push(artifactRef(product, version, platform));
				if (selection.fips && product.fips && fipsPlatformIds.has(platformId) && hasFipsBuilds(version)) {
					wanted.push(artifactRef(product, version, platform, true));
				}
			}
		}
	}

	return wanted;
}

/** Whether upstream may publish different bytes under this version later (SNAPSHOTs, prereleases). */
export function isMutableVersion(version: string): boolean {
	return (semver.parse(version)?.prerelease.length ?? 0) > 0;
}

/** What a tree path names: an artifact, one of its sidecars, or a signing key. */
export type PathKind =
	| {readonly kind: 'artifact'; readonly ref: ArtifactRef}
	| {
			readonly kind: 'sidecar';
			readonly ref: ArtifactRef;
			readonly extension: (typeof sidecarExtensions)[number];
	  }
	| {readonly kind: 'key'; readonly name: string};

const productsByFolder = new Map(products.map((product) => [product.folder, product]));

/**
Recognize a tree path (`downloads/beats/elastic-agent/elastic-agent-9.1.0-linux-x86_64.tar.gz`,
its `.sha512` or `.asc`, or a key at the root). Undefined for anything else.
*/
export function classifyPath(treePath: string): PathKind | undefined {
	if ((keyFiles as readonly string[]).includes(treePath)) {
		return {kind: 'key', name: treePath};
	}

	const sidecar = sidecarExtensions.find((extension) => treePath.endsWith(extension));
	const artifactPath = sidecar ? treePath.slice(0, -sidecar.length) : treePath;
	const slash = artifactPath.lastIndexOf('/');
	const folder = artifactPath.slice(0, slash);
	const fileName = artifactPath.slice(slash + 1);
	const product = folder.startsWith('downloads/') ? productsByFolder.get(folder.slice(10)) : undefined;
	if (!product) {
		return undefined;
	}

	for (const fips of product.fips ? [true, false] : [false]) {
		const prefix = `${product.name}${fips ? '-fips' : ''}-`;
		if (!fileName.startsWith(prefix)) {
			continue;
		}

		for (const platformId of product.platformIds) {
			const platform = platformsById.get(platformId);
			if (platform && fileName.endsWith(`-${platform.suffix}`)) {
				const version = fileName.slice(prefix.length, -platform.suffix.length - 1);
				if (semver.valid(version)) {
					const ref = artifactRef(product, version, platform, fips);
					return sidecar ? {kind: 'sidecar', ref, extension: sidecar} : {kind: 'artifact', ref};
				}
			}
		}
	}

	return undefined;
}
