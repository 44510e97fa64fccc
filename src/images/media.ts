/**
The image formats a mirror reads: OCI image indexes and manifests and their Docker
v2 schema 2 equivalents, parsed only as far as the mirror needs (what an index
lists, what a manifest names, which platform a descriptor is for). The bytes are
never re-encoded: a manifest is stored and served exactly as fetched.
*/
import {ImageError} from '../errors.js';
import {isDigest, type PlatformText} from './catalog.js';

/** Index (or manifest list) media types, OCI first. */
export const indexTypes: readonly string[] = [
	'application/vnd.oci.image.index.v1+json',
	'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** Single image manifest media types, OCI first. */
export const manifestTypes: readonly string[] = [
	'application/vnd.oci.image.manifest.v1+json',
	'application/vnd.docker.distribution.manifest.v2+json',
];

/** What the mirror asks a registry for: every index and manifest type it can keep. */
export const acceptedManifestTypes: readonly string[] = [...indexTypes, ...manifestTypes];

/** A content descriptor, as an index or manifest gives it. */
export type Descriptor = {
	readonly mediaType: string;
	readonly digest: string;
	readonly size: number;
	/** `os/architecture[/variant]` for an index entry that names one. */
	readonly platform?: PlatformText | undefined;
	/** For a BuildKit attestation entry: the digest of the platform manifest it describes. */
	readonly attests?: string | undefined;
	/** A foreign (nondistributable) layer: fetched from `urls`, never from the registry; not mirrored. */
	readonly foreign?: boolean | undefined;
};

/** A parsed index or manifest. */
export type ParsedManifest =
	| {readonly kind: 'index'; readonly mediaType: string; readonly manifests: readonly Descriptor[]}
	| {
			readonly kind: 'manifest';
			readonly mediaType: string;
			readonly config: Descriptor;
			readonly layers: readonly Descriptor[];
	  };

function descriptor(value: unknown, where: string): Descriptor {
	const entry = (value ?? {}) as Record<string, unknown>;
	const {mediaType, digest, size} = entry;
	if (typeof mediaType !== 'string' || typeof digest !== 'string' || typeof size !== 'number') {
		throw new ImageError(`${where}: a descriptor without mediaType, digest or size`);
	}

	if (!isDigest(digest)) {
		throw new ImageError(`${where}: digest "${digest}" is not a sha256 digest this mirror can verify`);
	}

	if (!Number.isSafeInteger(size) || size < 0) {
		throw new ImageError(`${where}: size ${size} of ${digest} is not a byte count`);
	}

	const platform = entry.platform as Record<string, unknown> | undefined;
	const annotations = (entry.annotations ?? {}) as Record<string, unknown>;
	const attests =
		annotations['vnd.docker.reference.type'] === 'attestation-manifest' &&
		typeof annotations['vnd.docker.reference.digest'] === 'string'
			? annotations['vnd.docker.reference.digest']
			: undefined;
	return {
		mediaType,
		digest,
		size,
		...(platform && typeof platform.os === 'string' && typeof platform.architecture === 'string'
			? {platform: platformText(platform.os, platform.architecture, platform.variant)}
			: {}),
		...(attests ? {attests} : {}),
		...(/\.foreign\.|nondistributable/.test(mediaType) ? {foreign: true} : {}),
	};
}

/** `os/architecture[/variant]`. */
export function platformText(os: string, architecture: string, variant?: unknown): PlatformText {
	return typeof variant === 'string' && variant !== ''
		? `${os}/${architecture}/${variant}`
		: `${os}/${architecture}`;
}

/**
Parse the bytes of a manifest or index fetched as `contentType`. The document's own
`mediaType`, when present, wins; `where` names it in errors (ImageError, ERR_IMAGE).
*/
export function parseManifest(
	bytes: Uint8Array,
	contentType: string | undefined,
	where: string,
): ParsedManifest {
	let data: Record<string, unknown>;
	try {
		data = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
	} catch {
		throw new ImageError(`${where}: the manifest is not JSON`);
	}

	if (typeof data !== 'object' || data === null || Array.isArray(data)) {
		throw new ImageError(`${where}: the manifest is not a JSON object`);
	}

	const declared = typeof data.mediaType === 'string' ? data.mediaType : undefined;
	const fromHeader = contentType?.split(';')[0]?.trim();
	if (declared && fromHeader && acceptedManifestTypes.includes(fromHeader) && declared !== fromHeader) {
		throw new ImageError(`${where}: served as ${fromHeader} but its mediaType is ${declared}`);
	}

	const mediaType =
		declared ??
		(fromHeader && acceptedManifestTypes.includes(fromHeader) ? fromHeader : undefined) ??
		(Array.isArray(data.manifests) ? indexTypes[0] : manifestTypes[0]);
	if (data.schemaVersion !== 2) {
		throw new ImageError(
			`${where}: schemaVersion ${String(data.schemaVersion)} is not supported (only image manifests of schema 2 and OCI)`,
		);
	}

	if (indexTypes.includes(mediaType as string)) {
		if (!Array.isArray(data.manifests)) {
			throw new ImageError(`${where}: an index without manifests`);
		}

		return {
			kind: 'index',
			mediaType: mediaType as string,
			manifests: data.manifests.map((entry, index) => descriptor(entry, `${where} manifests[${index}]`)),
		};
	}

	if (manifestTypes.includes(mediaType as string)) {
		if (!Array.isArray(data.layers)) {
			throw new ImageError(`${where}: a manifest without layers`);
		}

		return {
			kind: 'manifest',
			mediaType: mediaType as string,
			config: descriptor(data.config, `${where} config`),
			layers: data.layers.map((entry, index) => descriptor(entry, `${where} layers[${index}]`)),
		};
	}

	throw new ImageError(`${where}: media type ${mediaType} is not an image index or manifest`);
}

/** The platform an image config describes (`os`, `architecture`, `variant`), or undefined when it does not say. */
export function configPlatform(bytes: Uint8Array): PlatformText | undefined {
	try {
		const data = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
		return typeof data.os === 'string' && typeof data.architecture === 'string'
			? platformText(data.os, data.architecture, data.variant)
			: undefined;
	} catch {
		return undefined;
	}
}

/** Whether `platform` is among `wanted`; `linux/arm64` matches `linux/arm64/v8` (the only arm64 variant). */
export function platformSelected(platform: PlatformText, wanted: readonly PlatformText[]): boolean {
	return wanted.some(
		(entry) => entry === platform || (platform.startsWith(`${entry}/`) && entry.split('/').length === 2),
	);
}

/**
The entries of an index to keep: the selected platforms' manifests, and attestation
manifests that describe one of them. Entries with no platform (rare) are kept: they
cannot be told apart, and dropping one would break a client that asks for it.
*/
export function selectIndexEntries(
	manifests: readonly Descriptor[],
	platforms: readonly PlatformText[],
): Descriptor[] {
	const kept = manifests.filter(
		(entry) =>
			entry.attests === undefined &&
			manifestTypes.includes(entry.mediaType) &&
			(entry.platform === undefined || platformSelected(entry.platform, platforms)),
	);
	const keptDigests = new Set(kept.map((entry) => entry.digest));
	return [
		...kept,
		...manifests.filter((entry) => entry.attests !== undefined && keptDigests.has(entry.attests)),
	];
}
