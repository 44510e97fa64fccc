/**
Builds what artifacts.security.elastic.co publishes for one Elastic Defend version
(docs/defend-artifacts.md): a zip holding `manifest.json` (Kibana's `manifestSchema`: manifest_version,
schema_version, artifacts keyed by identifier) and, when signed, `manifest.sig`; and each artifact,
zlib-compressed, at its `relative_url`. Hashes and sizes are computed from the bytes served, so a
test can only see a mismatch where a spec asks for one.
*/
import {createHash, generateKeyPairSync, type KeyObject, sign} from 'node:crypto';
import {deflateSync} from 'node:zlib';
import yazl from 'yazl';

/** One artifact a version's manifest names. */
export type FakeArtifactSpec = {
	identifier: string;
	/** decoded content */
	content: string | Uint8Array;
	/** fault: encoded bytes served differ from what the manifest says */
	corrupt?: boolean;
};

/** One Defend version's manifest and the artifacts it names. */
export type FakeDefendVersion = {
	version: string;
	manifestVersion: string;
	artifacts: FakeArtifactSpec[];
	/** include manifest.sig in the zip (bytes signed by some throwaway key or just opaque bytes) */
	signed?: boolean;
};

/** One manifest entry, field names and order as Fleet writes them into an Endpoint policy. */
export type FakeManifestEntry = {
	encryption_algorithm: 'none';
	decoded_sha256: string;
	decoded_size: number;
	encoded_sha256: string;
	encoded_size: number;
	relative_url: string;
	compression_algorithm: 'zlib';
};

/** `manifest.json` inside the zip. */
export type FakeManifest = {
	manifest_version: string;
	schema_version: 'v1';
	artifacts: Record<string, FakeManifestEntry>;
};

/** A built version: tree paths (no leading `/`) and the bytes served there. */
export type BuiltDefendVersion = {
	manifest: FakeManifest;
	manifestJson: Buffer;
	zipPath: string;
	zip: Buffer;
	/** Artifact path → served bytes, in manifest order. */
	artifacts: Map<string, Buffer>;
};

/** Zip entry times: fixed, so the same spec always builds the same bytes. */
export const fakeSecurityModified = new Date('2026-11-20T08:00:00Z');

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The tree path of a version's manifest zip (the policy's default `manifest_relative_url`). */
export const manifestZipPath = (version: string) => `downloads/endpoint/manifest/artifacts-${version}.zip`;

/**
Where an artifact lives. Assumed shape, modelled on Fleet's `/api/fleet/artifacts/{identifier}/{decodedSha256}`:
content-addressed, so the same decoded bytes named by two versions are one file.
*/
export const artifactPath = (identifier: string, decodedSha256: string) =>
	`downloads/endpoint/artifacts/${identifier}/${decodedSha256}`;

let signingKey: {privateKey: KeyObject; publicKey: KeyObject} | undefined;

/** The throwaway key `manifest.sig` is made with (ECDSA P-256 over SHA-256 of manifest.json, DER). */
export function fakeManifestSigningKey(): {privateKey: KeyObject; publicKey: KeyObject} {
	signingKey ??= generateKeyPairSync('ec', {namedCurve: 'P-256'});
	return signingKey;
}

/** Encode one artifact; a corrupt one serves bytes with one flipped byte (same size, other hash). */
export function encodeArtifact(spec: FakeArtifactSpec): {
	entry: FakeManifestEntry;
	path: string;
	served: Buffer;
} {
	const decoded = typeof spec.content === 'string' ? Buffer.from(spec.content) : Buffer.from(spec.content);
	const encoded = deflateSync(decoded);
	const decodedSha = sha256(decoded);
	const path = artifactPath(spec.identifier, decodedSha);
	const served = Buffer.from(encoded);
	if (spec.corrupt) {
		const at = Math.floor(served.length / 2);
		served[at] = (served[at] ?? 0) ^ 0xff;
	}
	return {
		entry: {
			encryption_algorithm: 'none',
			decoded_sha256: decodedSha,
			decoded_size: decoded.length,
			encoded_sha256: sha256(encoded),
			encoded_size: encoded.length,
			relative_url: `/${path}`,
			compression_algorithm: 'zlib',
		},
		path,
		served,
	};
}

/**
`manifest.json` first and deflated: the documented recipe reads the zip with `zcat`, which only
inflates the first member and only a deflated one.
*/
async function zipOf(manifestJson: Buffer, signature: Buffer | undefined): Promise<Buffer> {
	const zip = new yazl.ZipFile();
	zip.addBuffer(manifestJson, 'manifest.json', {mtime: fakeSecurityModified, compress: true});
	if (signature) {
		zip.addBuffer(signature, 'manifest.sig', {mtime: fakeSecurityModified, compress: false});
	}
	zip.end();
	const chunks: Buffer[] = [];
	for await (const chunk of zip.outputStream) {
		chunks.push(Buffer.from(chunk as Buffer));
	}
	return Buffer.concat(chunks);
}

/** Build a version's manifest zip and artifacts. */
export async function buildDefendVersion(spec: FakeDefendVersion): Promise<BuiltDefendVersion> {
	const artifacts = new Map<string, Buffer>();
	const entries: Record<string, FakeManifestEntry> = {};
	for (const artifact of spec.artifacts) {
		const {entry, path, served} = encodeArtifact(artifact);
		entries[artifact.identifier] = entry;
		artifacts.set(path, served);
	}
	const manifest: FakeManifest = {
		manifest_version: spec.manifestVersion,
		schema_version: 'v1',
		artifacts: entries,
	};
	const manifestJson = Buffer.from(JSON.stringify(manifest, null, 2));
	const signature = spec.signed
		? sign('sha256', manifestJson, fakeManifestSigningKey().privateKey)
		: undefined;
	return {
		manifest,
		manifestJson,
		zipPath: manifestZipPath(spec.version),
		zip: await zipOf(manifestJson, signature),
		artifacts,
	};
}
