/**
What artifacts.security.elastic.co publishes for Elastic Defend and where: the
per-version manifest zip and the artifacts its `manifest.json` names. Pure data and
functions; nothing here touches the network or the disk.
*/
import {DefendError} from '../errors.js';

/** The default upstream, the host Defend polls unless its advanced settings say otherwise. */
export const defaultDefendUpstream = 'https://artifacts.security.elastic.co';

/** The tree path of a version's manifest zip: Endpoint's `manifest_relative_url` for it. */
export function defendManifestPath(version: string): string {
	return `downloads/endpoint/manifest/artifacts-${version}.zip`;
}

/** The version of a manifest zip's tree path, or undefined when it is not one. */
export function parseDefendManifestPath(relative: string): string | undefined {
	return /^downloads\/endpoint\/manifest\/artifacts-([0-9][0-9A-Za-z.+-]*)\.zip$/.exec(relative)?.[1];
}

/** Whether a tree path is under the Defend tree (`downloads/endpoint/`), manifests and artifacts alike. */
export function isDefendPath(relative: string): boolean {
	return (
		relative.startsWith('downloads/endpoint/manifest/') ||
		relative.startsWith('downloads/endpoint/artifacts/')
	);
}

/** One artifact a manifest names, as Kibana's manifest schema has it. */
export type DefendArtifactRef = {
	/** The manifest's key, e.g. `endpoint-exceptionlist-windows-v1`. */
	readonly identifier: string;
	/** The tree path: `relative_url` without its leading `/`. */
	readonly path: string;
	/** `zlib` or `none`; whatever the manifest says for an encrypted artifact. */
	readonly compression: string;
	/**
	`none`, or the algorithm of an artifact Endpoint decrypts itself (a global
	artifact may be RC4-encrypted): then only its encoded bytes can be checked.
	*/
	readonly encryption: string;
	readonly encodedSha256: string;
	readonly encodedSize: number;
	readonly decodedSha256: string;
	readonly decodedSize: number;
};

/** A parsed `manifest.json`. */
export type DefendManifest = {
	readonly manifestVersion: string;
	readonly schemaVersion: string;
	readonly artifacts: readonly DefendArtifactRef[];
};

const sha256 = /^[0-9a-f]{64}$/;

/**
Whether `url` is a plain path under `/downloads/` on the same host: no scheme or host,
no `..` or `.` segment, no empty segment, no query, fragment, backslash or percent
escape, so it maps to exactly one tree path.
*/
export function isPlainDownloadPath(url: string): boolean {
	if (!url.startsWith('/downloads/') || /[?#\\%\s]/.test(url)) {
		return false;
	}

	return url
		.slice(1)
		.split('/')
		.every((segment) => segment !== '' && segment !== '.' && segment !== '..' && /^[\w.+~-]+$/.test(segment));
}

/**
Whether a tree path is one a Defend artifact may have: a plain path under
`downloads/endpoint/`, outside the manifests' folder. Elastic's manifests name their
artifacts there (Endpoint's own log shows `/downloads/end…`); anything else could
replace a binary, a sidecar or a manifest zip with bytes only a Defend manifest
vouches for. Sync, import, verify and the server all use this one rule.
*/
export function isDefendArtifactPath(relative: string): boolean {
	return (
		relative.startsWith('downloads/endpoint/') &&
		!relative.startsWith('downloads/endpoint/manifest/') &&
		isPlainDownloadPath(`/${relative}`)
	);
}

function size(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
Parse and check a manifest's JSON text: its versions, and for every artifact a plain
`relative_url` under `/downloads/`, sha256 digests and sizes, `zlib` or `none`
compression and no encryption. Throws DefendError naming what is wrong; `label`
names the manifest.
*/
export function parseDefendManifest(text: string, label: string): DefendManifest {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (error) {
		throw new DefendError(`${label}: manifest.json is not JSON: ${(error as Error).message}`, {cause: error});
	}

	const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
	const {manifest_version: manifestVersion, schema_version: schemaVersion, artifacts} = record;
	if (typeof manifestVersion !== 'string' || manifestVersion === '') {
		throw new DefendError(`${label}: manifest.json has no manifest_version`);
	}

	if (typeof schemaVersion !== 'string' || typeof artifacts !== 'object' || artifacts === null) {
		throw new DefendError(`${label}: manifest.json has no schema_version or artifacts`);
	}

	const refs: DefendArtifactRef[] = [];
	const byPath = new Map<string, DefendArtifactRef>();
	for (const [identifier, value] of Object.entries(artifacts as Record<string, unknown>)) {
		const entry = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
		const url = entry.relative_url;
		if (typeof url !== 'string' || !isPlainDownloadPath(url)) {
			throw new DefendError(
				`${label}: artifact ${identifier} has relative_url ${JSON.stringify(url)}, not a plain path under /downloads/`,
			);
		}

		if (!isDefendArtifactPath(url.slice(1))) {
			throw new DefendError(
				`${label}: artifact ${identifier} has relative_url ${url}, outside /downloads/endpoint/ or among the manifests, where the mirror keeps other files`,
			);
		}

		const encodedSize = size(entry.encoded_size);
		const decodedSize = size(entry.decoded_size);
		const {encoded_sha256: encodedSha256, decoded_sha256: decodedSha256} = entry;
		const compression = entry.compression_algorithm;
		if (
			typeof encodedSha256 !== 'string' ||
			!sha256.test(encodedSha256) ||
			typeof decodedSha256 !== 'string' ||
			!sha256.test(decodedSha256) ||
			encodedSize === undefined ||
			decodedSize === undefined
		) {
			throw new DefendError(`${label}: artifact ${identifier} lacks sha256 digests or sizes`);
		}

		const encryption = entry.encryption_algorithm ?? 'none';
		if (typeof encryption !== 'string' || typeof compression !== 'string') {
			throw new DefendError(`${label}: artifact ${identifier} has no compression or encryption algorithm`);
		}

		if (encryption === 'none' && compression !== 'zlib' && compression !== 'none') {
			throw new DefendError(
				`${label}: artifact ${identifier} uses compression ${compression}, which the mirror cannot check`,
			);
		}

		const ref = {
			identifier,
			path: url.slice(1),
			compression,
			encryption,
			encodedSha256,
			encodedSize,
			decodedSha256,
			decodedSize,
		};
		const same = byPath.get(ref.path);
		if (same) {
			// One path, one file: entries that disagree on its bytes cannot both be served.
			const {identifier: _a, ...held} = same;
			const {identifier: _b, ...named} = ref;
			if (JSON.stringify(held) !== JSON.stringify(named)) {
				throw new DefendError(
					`${label}: artifacts ${same.identifier} and ${identifier} both have relative_url ${url} with other digests`,
				);
			}

			continue;
		}

		byPath.set(ref.path, ref);
		refs.push(ref);
	}

	return {manifestVersion, schemaVersion, artifacts: refs};
}
