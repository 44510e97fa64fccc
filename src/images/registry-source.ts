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
import type {CredentialStore} from './credentials.js';
import {acceptedManifestTypes} from './media.js';
import {
	authFailure,
	type Challenge,
	createTokenCache,
	parseChallenge,
	usableCredentials,
} from './registry-auth.js';

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

	const credentialsFor = (repository: string) => usableCredentials(credentials, host, repository);
	const tokens = createTokenCache(
		host,
		(realm, headers) => client.fetch(realm, {statuses: [401, 403], headers}),
		credentialsFor,
	);
	const scopesOf = (repository: string) => [`repository:${repository}:pull`];

	/** How the registry wants to be spoken to, asked once per run. */
	const ping = async (): Promise<Challenge> => {
		const answer = await client.fetch(`${root}/v2/`, {statuses: [401]});
		if (answer.status === 200) {
			return {kind: 'none'};
		}

		const parsed = parseChallenge(answer.headers['www-authenticate']);
		if (!parsed) {
			throw new UpstreamError(
				redactText(root),
				`${redactText(root)}/v2/ answered 401 without a Basic or Bearer challenge; it is not a registry this mirror can log in to`,
				{retryable: false, status: 401},
			);
		}

		return parsed;
	};

	const authHeaders = async (repository: string): Promise<Record<string, string>> => {
		challenge ??= ping();
		const how = await challenge.catch((error: unknown) => {
			challenge = undefined;
			throw error;
		});
		return tokens.headers(how, repository, scopesOf(repository));
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
				const asked = parseChallenge(answer.headers['www-authenticate']);
				if (asked && (await challenge)?.kind === 'none') {
					challenge = Promise.resolve(asked);
				}

				tokens.forget(scopesOf(repository));
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
			tokens.forget(scopesOf(repository));
		},
	};
}
