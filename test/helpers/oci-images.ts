/**
Small generated container images, pushed into a registry over plain HTTP the way
the distribution spec describes (monolithic blob upload, then manifests, the tag
last): a multi-platform image (an index with linux/amd64 and linux/arm64 whose
manifests share one layer) as OCI or as a Docker v2 schema 2 manifest list, and
single-platform images. Everything pushed comes back with its digest and bytes,
so tests compare what a client pulled with what upstream holds.
*/
import {createHash} from 'node:crypto';
import {gzipSync} from 'node:zlib';
import {pack} from 'tar-stream';

/** The media types of one image format. */
type Format = {
	readonly index: string;
	readonly manifest: string;
	readonly config: string;
	readonly layer: string;
};

/** OCI image spec media types, and their Docker v2 schema 2 equivalents. */
export const mediaTypes = {
	oci: {
		index: 'application/vnd.oci.image.index.v1+json',
		manifest: 'application/vnd.oci.image.manifest.v1+json',
		config: 'application/vnd.oci.image.config.v1+json',
		layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
	},
	docker: {
		index: 'application/vnd.docker.distribution.manifest.list.v2+json',
		manifest: 'application/vnd.docker.distribution.manifest.v2+json',
		config: 'application/vnd.docker.container.image.v1+json',
		layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
	},
} as const satisfies Record<string, Format>;

/** A manifest or index as pushed: its exact bytes, their digest, its media type. */
export type PushedManifest = {readonly digest: string; readonly bytes: Buffer; readonly mediaType: string};

/** One platform's image manifest, with what it names. */
export type PushedPlatformManifest = PushedManifest & {
	/** `os/architecture`, e.g. `linux/arm64`. */
	readonly platform: string;
	readonly config: string;
	readonly layers: readonly string[];
};

/** Everything one push put into the registry. */
export type PushedImage = {
	/** The index or manifest list the tag points to; absent for a single-platform image. */
	readonly index?: PushedManifest;
	readonly manifests: readonly PushedPlatformManifest[];
	/** Every config and layer blob by digest (a shared layer once). */
	readonly blobs: Map<string, Buffer>;
	/** The layer every platform manifest names, for multi-platform images. */
	readonly sharedLayer?: string;
};

/** How to vary what is generated. */
export type ImageOptions = {
	/** `oci` (default) or `docker` (schema 2 manifests and a manifest list). */
	readonly format?: keyof typeof mediaTypes;
	/**
	Mixed into the per-platform files, so a second push of the same tag makes new
	manifests and layers (a tag that moved) while the shared layer stays the same.
	*/
	readonly variant?: string;
};

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Buffer): string {
	return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A tar with the given files, fixed dates and owners so the same files give the same bytes. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
	const archive = pack();
	for (const [name, content] of Object.entries(files)) {
		archive.entry({name, mtime: new Date('2025-01-01T00:00:00Z'), uid: 0, gid: 0, mode: 0o644}, content);
	}

	archive.finalize();
	const chunks: Buffer[] = [];
	for await (const chunk of archive) {
		chunks.push(chunk as Buffer);
	}

	return Buffer.concat(chunks);
}

/** A gzipped layer and the digest of its uncompressed tar (the config's diff_id). */
async function layerOf(files: Record<string, string>): Promise<{blob: Buffer; diffId: string}> {
	const tar = await tarOf(files);
	return {blob: gzipSync(tar), diffId: sha256Digest(tar)};
}

/**
JSON with three-space indents and a trailing newline: bytes no serializer makes
on its own, so a mirror that re-encodes a manifest instead of keeping its bytes
changes the digest and fails the comparison.
*/
function manifestBytes(value: unknown): Buffer {
	return Buffer.from(`${JSON.stringify(value, null, 3)}\n`);
}

function splitPlatform(platform: string): {os: string; architecture: string; variant?: string} {
	const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
	return variant ? {os, architecture, variant} : {os, architecture};
}

/** Check a registry answer, with its body in the error when it is not what the push needs. */
async function expectStatus(response: Response, status: number, what: string): Promise<void> {
	if (response.status !== status) {
		throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
	}

	await response.arrayBuffer();
}

/** Push one blob with a monolithic upload: POST for a session, then PUT the bytes with the digest. */
export async function pushBlob(url: string, name: string, bytes: Buffer): Promise<string> {
	const digest = sha256Digest(bytes);
	const started = await fetch(`${url}/v2/${name}/blobs/uploads/`, {method: 'POST'});
	await expectStatus(started, 202, `POST ${name} blob upload`);
	const location = new URL(started.headers.get('location') ?? '', `${url}/`);
	location.searchParams.set('digest', digest);
	const put = await fetch(location, {
		method: 'PUT',
		headers: {'content-type': 'application/octet-stream', 'content-length': String(bytes.length)},
		body: bytes,
	});
	await expectStatus(put, 201, `PUT ${name} blob ${digest}`);
	return digest;
}

/** PUT a manifest or index under a tag or its digest. */
export async function pushManifest(
	url: string,
	name: string,
	reference: string,
	manifest: PushedManifest,
): Promise<void> {
	const response = await fetch(`${url}/v2/${name}/manifests/${reference}`, {
		method: 'PUT',
		headers: {'content-type': manifest.mediaType},
		body: manifest.bytes,
	});
	await expectStatus(response, 201, `PUT ${name} manifest ${reference}`);
}

/** Build one platform's config and manifest over `layers` (already pushed), and push them by digest. */
async function pushPlatform(
	url: string,
	name: string,
	format: Format,
	platform: string,
	layers: ReadonlyArray<{blob: Buffer; diffId: string}>,
	blobs: Map<string, Buffer>,
): Promise<PushedPlatformManifest> {
	const config = manifestBytes({
		...splitPlatform(platform),
		created: '2025-01-01T00:00:00Z',
		config: {Cmd: ['/hello']},
		rootfs: {type: 'layers', diff_ids: layers.map((layer) => layer.diffId)},
	});
	const configDigest = await pushBlob(url, name, config);
	blobs.set(configDigest, config);
	const layerDigests = layers.map((layer) => sha256Digest(layer.blob));
	const bytes = manifestBytes({
		schemaVersion: 2,
		mediaType: format.manifest,
		config: {mediaType: format.config, digest: configDigest, size: config.length},
		layers: layers.map((layer, index) => ({
			mediaType: format.layer,
			digest: layerDigests[index],
			size: layer.blob.length,
		})),
	});
	const manifest = {
		digest: sha256Digest(bytes),
		bytes,
		mediaType: format.manifest,
		platform,
		config: configDigest,
		layers: layerDigests,
	};
	await pushManifest(url, name, manifest.digest, manifest);
	return manifest;
}

/** Push layers not pushed yet by this image (a shared one goes up once). */
async function pushLayers(
	url: string,
	name: string,
	layers: ReadonlyArray<{blob: Buffer}>,
	blobs: Map<string, Buffer>,
): Promise<void> {
	for (const layer of layers) {
		const digest = sha256Digest(layer.blob);
		if (!blobs.has(digest)) {
			await pushBlob(url, name, layer.blob);
			blobs.set(digest, layer.blob);
		}
	}
}

/** The layer every image of every test shares: same files, same bytes, same digest. */
function sharedLayer(): Promise<{blob: Buffer; diffId: string}> {
	return layerOf({'etc/shared.txt': 'a layer every platform and every image carries\n'});
}

function platformLayer(name: string, platform: string, variant: string) {
	return layerOf({'hello.txt': `${name} for ${platform}${variant ? ` (${variant})` : ''}\n`});
}

/**
Push a multi-platform image to `url` (e.g. `http://127.0.0.1:5000`) as `name:tag`:
an index (or manifest list) with linux/amd64 and linux/arm64, each manifest with
the shared layer and a layer of its own; the tag is pushed last.
*/
export async function pushMultiPlatform(
	url: string,
	name: string,
	tag: string,
	options: ImageOptions = {},
): Promise<PushedImage> {
	const format = mediaTypes[options.format ?? 'oci'];
	const blobs = new Map<string, Buffer>();
	const shared = await sharedLayer();
	const manifests: PushedPlatformManifest[] = [];
	for (const platform of ['linux/amd64', 'linux/arm64']) {
		const layers = [shared, await platformLayer(name, platform, options.variant ?? '')];
		await pushLayers(url, name, layers, blobs);
		manifests.push(await pushPlatform(url, name, format, platform, layers, blobs));
	}

	const bytes = manifestBytes({
		schemaVersion: 2,
		mediaType: format.index,
		manifests: manifests.map((manifest) => ({
			mediaType: manifest.mediaType,
			digest: manifest.digest,
			size: manifest.bytes.length,
			platform: splitPlatform(manifest.platform),
		})),
	});
	const index = {digest: sha256Digest(bytes), bytes, mediaType: format.index};
	await pushManifest(url, name, tag, index);
	return {index, manifests, blobs, sharedLayer: sha256Digest(shared.blob)};
}

/** Push a single-platform image (`platform` like `linux/amd64`): one manifest, tagged, no index. */
export async function pushSinglePlatform(
	url: string,
	name: string,
	tag: string,
	platform: string,
	options: ImageOptions = {},
): Promise<PushedImage> {
	const format = mediaTypes[options.format ?? 'oci'];
	const blobs = new Map<string, Buffer>();
	const layers = [await sharedLayer(), await platformLayer(name, platform, options.variant ?? '')];
	await pushLayers(url, name, layers, blobs);
	const manifest = await pushPlatform(url, name, format, platform, layers, blobs);
	await pushManifest(url, name, tag, manifest);
	return {manifests: [manifest], blobs};
}
