/**
What a container image mirror names and where it keeps it: repository names, tags
and digests as the OCI Distribution spec writes them, the `--images` requests, the
platforms kept, and the tree path of every content-addressed blob. Pure data and
functions; nothing here touches the network or the disk.
*/
import {UsageError} from '../errors.js';

/** Where ECK pulls every Elastic image from, and the default `--image-registry`. */
export const defaultImageRegistry = 'https://docker.elastic.co';

/** The platforms kept from a multi-platform image unless `--image-platforms` says otherwise. */
export const defaultImagePlatforms: readonly string[] = ['linux/amd64', 'linux/arm64'];

/** A repository name (distribution-spec "Pulling manifests"): lower-case components joined by `/`. */
export const repositoryPattern =
	/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** A tag (distribution-spec): at most 128 characters. */
export const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** A sha256 digest as image-spec requires it (lower-case hex only). */
export const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** One `--images` entry: a repository, with the tag asked for or none (the stack versions). */
export type ImageRequest = {
	readonly repository: string;
	readonly tag?: string | undefined;
};

/** Whether `value` is a digest this mirror can verify (sha256, the one algorithm registries require). */
export function isDigest(value: string): boolean {
	return digestPattern.test(value);
}

/** Whether `value` is a valid repository name. */
export function isRepository(value: string): boolean {
	return value.length <= 255 && repositoryPattern.test(value);
}

/** Whether `value` is a valid tag. */
export function isTag(value: string): boolean {
	return tagPattern.test(value);
}

/**
Parse `--images` entries: `repo` or `repo:tag`. A registry host in front of the name
(`docker.elastic.co/kibana/kibana`) is refused with the flag to use instead, since the
source registry is `--image-registry`. `label` names the option in errors.
*/
export function parseImageRequests(entries: readonly string[], label: string): ImageRequest[] {
	const requests = new Map<string, ImageRequest>();
	for (const raw of entries) {
		const entry = raw.trim();
		const colon = entry.lastIndexOf(':');
		const slash = entry.lastIndexOf('/');
		const [repository, tag] =
			colon > slash ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entry, undefined];
		const first = repository.split('/')[0] ?? '';
		if (entry.includes('@')) {
			throw new UsageError(
				`invalid ${label} "${entry}": pulling by digest is not supported; give repo or repo:tag`,
			);
		}

		if (repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
			throw new UsageError(
				`invalid ${label} "${entry}": give the repository without its registry host (${entry.slice(first.length + 1)}); the registry is --image-registry`,
			);
		}

		if (!isRepository(repository)) {
			throw new UsageError(
				`invalid ${label} "${entry}": "${repository}" is not a repository name (lower-case components joined by /, e.g. elasticsearch/elasticsearch)`,
			);
		}

		if (tag !== undefined && !isTag(tag)) {
			throw new UsageError(
				`invalid ${label} "${entry}": "${tag}" is not a tag (letters, digits, _ . -, at most 128, not starting with . or -)`,
			);
		}

		requests.set(`${repository}:${tag ?? ''}`, {repository, ...(tag === undefined ? {} : {tag})});
	}

	return [...requests.values()];
}

/** An `--images` entry as written. */
export function imageRequestText(request: ImageRequest): string {
	return request.tag === undefined ? request.repository : `${request.repository}:${request.tag}`;
}

/** One platform as `os/architecture[/variant]`. */
export type PlatformText = string;

/**
Parse `--image-platforms` entries (`linux/amd64`, `linux/arm64/v8`). Returns them
normalized; throws UsageError naming the bad one.
*/
export function parsePlatforms(entries: readonly string[], label: string): PlatformText[] {
	return [
		...new Set(
			entries.map((raw) => {
				const entry = raw.trim();
				if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(entry)) {
					throw new UsageError(
						`invalid ${label} "${entry}": expected os/architecture or os/architecture/variant, such as linux/amd64`,
					);
				}

				return entry;
			}),
		),
	];
}

/** The tree path of a blob (layer, config or manifest) with this digest: `oci/blobs/sha256/<hex>`, as an OCI layout keeps it. */
export function blobPath(digest: string): string {
	return `oci/blobs/${digest.replace(':', '/')}`;
}

/** The digest of a tree path under `oci/blobs/`, or undefined when it is not one. */
export function parseBlobPath(relative: string): string | undefined {
	const match = /^oci\/blobs\/sha256\/([a-f0-9]{64})$/.exec(relative);
	return match ? `sha256:${match[1]}` : undefined;
}

/** Whether a tree path belongs to the image store (`oci/`). */
export function isImagePath(relative: string): boolean {
	return relative.startsWith('oci/');
}

/**
The name ECK gives a repository with `--container-repository NAME`: `NAME/` and the
repository's last component (`elasticsearch/elasticsearch` → `NAME/elasticsearch`).
*/
export function flatName(repository: string, containerRepository: string): string {
	return `${containerRepository}/${repository.slice(repository.lastIndexOf('/') + 1)}`;
}
