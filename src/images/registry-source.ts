/**
The pull side of a source registry (docker.elastic.co, any OCI registry, another
mirror of ours), as container runtimes speak to it: `GET /v2/` to learn how it wants
to be authenticated, a bearer token per repository from the challenge's realm
(anonymously or with the credentials of the host), manifests by tag or digest with
every index and manifest type accepted, and blob URLs with the token to download
them (a redirect to storage on another host drops the token, as got does for any
other origin). Manifest bytes are checked against their digest here; blobs are
checked by whoever downloads them.
*/
import {createHash} from 'node:crypto';
import {ImageError, NotFoundError, UpstreamError} from '../errors.js';
import {redactText} from '../redact.js';
import type {HttpClient} from '../upstream/types.js';
import type {CredentialStore, Credentials} from './credentials.js';
import {acceptedManifestTypes} from './media.js';

/** A manifest or index as the registry answered it, with the digest of its exact bytes. */
export type FetchedManifest = {
	readonly bytes: Buffer;
	readonly digest: string;
	/** The Content-Type it came with (parameters dropped), or undefined. */
	readonly contentType: string | undefined;
};

/** One source registry, for one run. */
export type RegistrySource = {
	/** The registry root URL, without a trailing slash. */
	readonly url: string;
	/** GET a manifest by tag or digest. Throws NotFoundError, ImageError (ERR_DIGEST, ERR_REGISTRY_AUTH) or UpstreamError. */
	manifest(repository: string, reference: string): Promise<FetchedManifest>;
	/** The URL of a blob and the headers to fetch it with (a fresh token when the last one may have run out). */
	blob(repository: string, digest: string): Promise<{url: string; headers: Record<string, string>}>;
	/** Forget the repository's token (the registry answered 401 with it): the next request gets a new one. */
	forget(repository: string): void;
};

/** Manifests over 4 MiB are refused, as the distribution registry refuses to store them. */
const maxManifestBytes = 4 * 1024 * 1024;

type Challenge =
	| {readonly kind: 'none'}
	| {readonly kind: 'basic'}
	| {readonly kind: 'bearer'; readonly realm: string; readonly service: string | undefined};

/** Parse `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (or Basic). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
	if (!header) {
		return undefined;
	}

	const scheme = /^\s*(\w+)/.exec(header)?.[1]?.toLowerCase();
	if (scheme === 'basic') {
		return {kind: 'basic'};
	}

	if (scheme !== 'bearer') {
		return undefined;
	}

	const parameters = new Map<string, string>();
	for (const match of header.matchAll(/(\w+)="([^"]*)"/g)) {
		parameters.set((match[1] as string).toLowerCase(), match[2] as string);
	}

	const realm = parameters.get('realm');
	return realm ? {kind: 'bearer', realm, service: parameters.get('service')} : undefined;
}

function authFailure(message: string): ImageError {
	return new ImageError(message, {code: 'ERR_REGISTRY_AUTH'});
}

/** `Authorization: Basic` of a user name and password from a credential file. */
export function basicHeader(credentials: Extract<Credentials, {kind: 'basic'}>): string {
	return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** `sha256:<hex>` of bytes. */
export function sha256Of(bytes: Uint8Array): string {
	return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
A source registry at `url`, reached through `client`; `credentials` looks up what
the host needs (undefined: anonymous everywhere).
*/
export function createRegistrySource(
	url: string,
	client: HttpClient,
	credentials: CredentialStore | undefined,
): RegistrySource {
	const root = url.replace(/\/+$/, '');
	const host = new URL(root).host;
	let challenge: Promise<Challenge> | undefined;
	const tokens = new Map<string, {header: string; expires: number}>();

	const credentialsFor = (repository: string): Credentials | undefined => {
		const found = credentials?.lookup(host, repository);
		if (found?.kind === 'helper') {
			throw authFailure(
				`the credentials for ${host} in ${found.file} are kept by docker-credential-${found.helper}, which the mirror does not run; give them in an auths entry, e.g. in a file named by REGISTRY_AUTH_FILE`,
			);
		}

		if (found?.kind === 'identity') {
			throw authFailure(
				`the credentials for ${host} in ${found.file} are an OAuth identity token, which the mirror does not support; log in with a user name and password or token`,
			);
		}

		return found;
	};

	/** How the registry wants to be spoken to, asked once per run. */
	const ping = async (): Promise<Challenge> => {
		const answer = await client.fetch(`${root}/v2/`, {statuses: [401]});
		if (answer.status === 200) {
			return {kind: 'none'};
		}

		const header = answer.headers['www-authenticate'];
		const parsed = parseChallenge(Array.isArray(header) ? header[0] : header);
		if (!parsed) {
			throw new UpstreamError(
				redactText(root),
				`${redactText(root)}/v2/ answered 401 without a Basic or Bearer challenge; it is not a registry this mirror can log in to`,
				{retryable: false, status: 401},
			);
		}

		return parsed;
	};

	const token = async (repository: string, how: Challenge & {kind: 'bearer'}): Promise<string> => {
		const held = tokens.get(repository);
		if (held && held.expires > Date.now()) {
			return held.header;
		}

		const found = credentialsFor(repository);
		if (found?.kind === 'bearer') {
			return `Bearer ${found.token}`;
		}

		const query = new URLSearchParams({
			...(how.service ? {service: how.service} : {}),
			scope: `repository:${repository}:pull`,
		});
		const realm = `${how.realm}${how.realm.includes('?') ? '&' : '?'}${query}`;
		const answer = await client.fetch(realm, {
			statuses: [401, 403],
			headers: found?.kind === 'basic' ? {authorization: basicHeader(found)} : {},
		});
		if (answer.status !== 200) {
			throw authFailure(
				found
					? `${host} refused the credentials from ${found.file} for ${repository} (HTTP ${answer.status} from its token service)`
					: `${host} refused an anonymous token for ${repository} (HTTP ${answer.status}); give credentials in a Docker config.json or REGISTRY_AUTH_FILE`,
			);
		}

		let data: {token?: unknown; access_token?: unknown; expires_in?: unknown};
		try {
			data = JSON.parse(answer.body.toString('utf8')) as typeof data;
		} catch {
			throw authFailure(`the token service of ${host} answered something that is not JSON`);
		}

		const value = typeof data.token === 'string' && data.token ? data.token : data.access_token;
		if (typeof value !== 'string' || value === '') {
			throw authFailure(`the token service of ${host} answered no token for ${repository}`);
		}

		// The spec's default lifetime is 60 s; a margin keeps a token from running out on the way.
		const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 60;
		const header = `Bearer ${value}`;
		tokens.set(repository, {header, expires: Date.now() + Math.max(lifetime - 15, 5) * 1000});
		return header;
	};

	const authHeaders = async (repository: string): Promise<Record<string, string>> => {
		challenge ??= ping();
		const how = await challenge.catch((error: unknown) => {
			challenge = undefined;
			throw error;
		});
		if (how.kind === 'none') {
			return {};
		}

		if (how.kind === 'basic') {
			const found = credentialsFor(repository);
			if (found?.kind !== 'basic') {
				throw authFailure(`${host} asks for a user name and password, and none is given for it`);
			}

			return {authorization: basicHeader(found)};
		}

		return {authorization: await token(repository, how)};
	};

	const manifestOnce = async (repository: string, reference: string) => {
		const answer = await client.fetch(`${root}/v2/${repository}/manifests/${reference}`, {
			maxBytes: maxManifestBytes,
			statuses: [401, 403, 404],
			headers: {...(await authHeaders(repository)), accept: acceptedManifestTypes.join(', ')},
		});
		return answer;
	};

	return {
		url: root,
		async manifest(repository, reference) {
			let answer = await manifestOnce(repository, reference);
			if (answer.status === 401) {
				// A token that ran out early, or a registry whose /v2/ is open but whose
				// repositories challenge: one more try, as the 401's own challenge says.
				const header = answer.headers['www-authenticate'];
				const asked = parseChallenge(Array.isArray(header) ? header[0] : header);
				if (asked && (await challenge)?.kind === 'none') {
					challenge = Promise.resolve(asked);
				}

				tokens.delete(repository);
				answer = await manifestOnce(repository, reference);
			}

			if (answer.status === 401 || answer.status === 403) {
				const found = credentialsFor(repository);
				throw authFailure(
					`${host} answered HTTP ${answer.status} for ${repository}:${reference}${found ? ` with the credentials from ${found.file}` : ' without credentials'}`,
				);
			}

			if (answer.status === 404) {
				throw new NotFoundError(`${redactText(root)}/v2/${repository}/manifests/${reference}`);
			}

			const digest = sha256Of(answer.body);
			const header = answer.headers['docker-content-digest'];
			const declared = Array.isArray(header) ? header[0] : header;
			if (reference.startsWith('sha256:') && digest !== reference) {
				throw new ImageError(
					`${repository}@${reference}: the registry sent a manifest whose digest is ${digest}`,
					{
						code: 'ERR_DIGEST',
					},
				);
			}

			if (declared?.startsWith('sha256:') && declared !== digest) {
				throw new ImageError(
					`${repository}:${reference}: Docker-Content-Digest says ${declared}, the bytes are ${digest}`,
					{code: 'ERR_DIGEST'},
				);
			}

			const type = answer.headers['content-type'];
			return {
				bytes: answer.body,
				digest,
				contentType: (Array.isArray(type) ? type[0] : type)?.split(';')[0]?.trim(),
			};
		},
		async blob(repository, digest) {
			return {url: `${root}/v2/${repository}/blobs/${digest}`, headers: await authHeaders(repository)};
		},
		forget(repository) {
			tokens.delete(repository);
		},
	};
}
