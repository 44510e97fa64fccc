/**
The push side of the OCI Distribution API, for `push-images`: one destination
registry, spoken to as the spec's push section says. `GET /v2/` tells how to log in
(nothing, Basic, or a bearer-token challenge); bearer tokens are asked for with
`scope=repository:<name>:pull,push` (and `repository:<from>:pull` for a
cross-repository mount), with the Basic credentials of the host when a credential
file has them. Blobs: `HEAD` (present: skip), else a mount from a repository that
holds it, else `POST` an upload session and `PUT <location>&digest=` with the bytes
streamed from the store (a monolithic upload). Manifests: `PUT` by digest or tag
with the stored bytes and media type; the registry's `Docker-Content-Digest` must
be the digest pushed. Each step is retried as a whole on failures that may pass
(5xx, 429, a broken connection); a 401 is retried once with a new token.
Over 300 lines because the login and the push steps share one registry's state (its
challenge, tokens and origin) and its error wording; the token cache is registry-auth.ts.
*/
import type {Readable} from 'node:stream';
import {ImageError, MirrorError, UpstreamError} from '../errors.js';
import {redactText} from '../redact.js';
import {toUpstreamError, unreachableCode} from '../upstream/errors.js';
import {withRetry} from '../upstream/retry.js';
import type {HttpConfig} from '../upstream/types.js';
import type {CredentialStore} from './credentials.js';
import {acceptedManifestTypes} from './media.js';
import type {PushHttp, PushRequest, PushResponse} from './push-http.js';
import {
	authFailure,
	type Challenge,
	createTokenCache,
	parseChallenge,
	usableCredentials,
} from './registry-auth.js';

/** A manifest or index to put: its exact bytes, their digest, its media type. */
export type PushedManifest = {
	readonly digest: string;
	readonly mediaType: string;
	readonly bytes: Buffer;
};

/** How a blob got into a repository of the destination. */
export type BlobOutcome = 'uploaded' | 'mounted';

/** One destination registry, for one run. */
export type RegistryDestination = {
	/** The registry root URL, without a trailing slash. */
	readonly url: string;
	/** `host[:port]`, as image references and credential files name it. */
	readonly host: string;
	/** `GET /v2/`: learn how to log in. Throws when the registry cannot be reached or is not one. */
	ping(): Promise<void>;
	/** Whether `name` already has the blob (`HEAD`). */
	hasBlob(name: string, digest: string): Promise<boolean>;
	/**
	Put a blob into `name`: mounted from `from` when given and the registry agrees,
	else uploaded from `open()` (called again for each attempt).
	*/
	putBlob(
		name: string,
		blob: {readonly digest: string; readonly size: number},
		open: () => Promise<Readable>,
		from?: string,
	): Promise<BlobOutcome>;
	/** The digest `name:reference` has now (`HEAD`), or undefined when there is none. */
	manifestDigest(name: string, reference: string): Promise<string | undefined>;
	/** `PUT` a manifest under a tag or its digest; checks the digest the registry computed. */
	putManifest(name: string, reference: string, manifest: PushedManifest): Promise<void>;
};

function firstHeader(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

/** The spec's error JSON as `CODE: message` (the first two), or the status alone. */
function registryErrors(answer: PushResponse): string {
	try {
		const data = JSON.parse(answer.body.toString('utf8')) as {
			errors?: Array<{code?: unknown; message?: unknown}>;
		};
		const parts = (data.errors ?? [])
			.slice(0, 2)
			.map((error) =>
				[error.code, error.message].filter((part) => typeof part === 'string' && part !== '').join(': '),
			)
			.filter(Boolean);
		if (parts.length > 0) {
			return `HTTP ${answer.status} ${redactText(parts.join('; ')).slice(0, 300)}`;
		}
	} catch {
		// Not the spec's JSON: the status says enough.
	}

	return `HTTP ${answer.status}`;
}

/**
The destination registry at `url`, reached through `http`; `credentials` looks up
what the host needs (undefined: anonymous).
*/
export function createRegistryDestination(
	url: string,
	http: PushHttp,
	credentials: CredentialStore | undefined,
	config: HttpConfig,
): RegistryDestination {
	const root = url.replace(/\/+$/, '');
	const origin = new URL(root).origin;
	const host = new URL(root).host;
	let challenge: Challenge | undefined;
	// What this module throws (a refusal, a digest mismatch) is final; the rest is judged as upstream failures are.
	const retried = <T>(target: string, action: () => Promise<T>) =>
		withRetry(config, target, undefined, action, (at, error) =>
			error instanceof MirrorError ? error : toUpstreamError(at, error),
		);
	const credentialsFor = (name: string) => usableCredentials(credentials, host, name);
	const tokens = createTokenCache(
		host,
		(realm, headers) => http.send(realm, {method: 'GET', headers}),
		credentialsFor,
	);

	const withCredentials = (name: string): string => {
		const found = credentials?.lookup(host, name);
		return found ? ` with the credentials from ${found.file}` : ' without credentials';
	};

	/** A failure for an answer that is not the one wanted: retryable when it may pass. */
	const failure = (answer: PushResponse, what: string, name: string): Error => {
		const detail = registryErrors(answer);
		if (answer.status === 401 || answer.status === 403) {
			return authFailure(`${host} refused ${what} (${detail})${withCredentials(name)}`);
		}

		if (answer.status >= 500 || answer.status === 429 || answer.status === 408) {
			return new UpstreamError(redactText(root), `${host} answered ${detail} to ${what}`, {
				retryable: true,
				status: answer.status,
			});
		}

		return new ImageError(`${host} refused ${what} (${detail})`);
	};

	const ping = async (): Promise<Challenge> => {
		const answer = await http.send(`${root}/v2/`, {method: 'GET'}).catch((error: unknown) => {
			// A registry that was never reached is not retried: every tag would wait for the same answer.
			const code = unreachableCode(error);
			throw code
				? new UpstreamError(
						redactText(root),
						`cannot reach the registry ${host} (${code}): check --to; set HTTPS_PROXY (and NO_PROXY) if this network needs a proxy`,
						{retryable: false, cause: error, code: 'ERR_UNREACHABLE'},
					)
				: error;
		});
		if (answer.status === 200) {
			return {kind: 'none'};
		}

		const parsed =
			answer.status === 401 ? parseChallenge(firstHeader(answer.headers['www-authenticate'])) : undefined;
		if (!parsed) {
			throw new UpstreamError(
				redactText(root),
				`${redactText(root)}/v2/ answered HTTP ${answer.status}${answer.status === 401 ? ' without a Basic or Bearer challenge' : ''}; it is not a registry this mirror can push to`,
				{retryable: answer.status >= 500, status: answer.status},
			);
		}

		return parsed;
	};

	const authHeaders = async (name: string, scopes: readonly string[]): Promise<Record<string, string>> => {
		challenge ??= await retried(`${root}/v2/`, ping);
		return tokens.headers(challenge, name, scopes);
	};

	/**
	Send a request to `name` with its credentials (none to another origin, such as an
	upload location on storage); a 401 drops the token and tries once more.
	*/
	const call = async (
		name: string,
		target: string,
		request: Omit<PushRequest, 'body'> & {body?: () => Promise<Buffer | Readable>},
		from?: string,
	): Promise<PushResponse> => {
		const scopes = [`repository:${name}:pull,push`, ...(from ? [`repository:${from}:pull`] : [])];
		const send = async () => {
			const body = await request.body?.();
			try {
				return await http.send(target, {
					method: request.method,
					headers: {
						...request.headers,
						...(new URL(target).origin === origin ? await authHeaders(name, scopes) : {}),
					},
					body,
				});
			} finally {
				// A registry may answer (401, 4xx) before reading the whole body: the store's stream is closed either way.
				if (body && !Buffer.isBuffer(body)) {
					body.destroy();
				}
			}
		};
		const answer = await send();
		if (answer.status === 401 && challenge?.kind === 'bearer' && tokens.forget(scopes)) {
			return send();
		}

		return answer;
	};

	const uploadSession = async (name: string, digest: string, from: string | undefined) => {
		const uploads = `${root}/v2/${name}/blobs/uploads/`;
		if (from) {
			const mount = await call(
				name,
				`${uploads}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
				{method: 'POST', headers: {'content-length': '0'}},
				from,
			);
			if (mount.status === 201) {
				return 'mounted' as const;
			}

			const location = firstHeader(mount.headers.location);
			if (mount.status === 202 && location) {
				// The spec's fallback: the registry did not mount, and this is an upload session.
				return new URL(location, uploads).toString();
			}

			if (mount.status >= 500 || mount.status === 429) {
				throw failure(mount, `mounting ${digest} into ${name}`, name);
			}
		}

		const started = await call(name, uploads, {method: 'POST', headers: {'content-length': '0'}});
		const location = firstHeader(started.headers.location);
		if (started.status !== 202) {
			throw failure(started, `an upload to ${name}`, name);
		}

		if (!location) {
			throw new ImageError(`${host} started an upload to ${name} without a Location to send it to`);
		}

		return new URL(location, uploads).toString();
	};

	return {
		url: root,
		host,
		async ping() {
			challenge ??= await retried(`${root}/v2/`, ping);
		},
		hasBlob(name, digest) {
			const target = `${root}/v2/${name}/blobs/${digest}`;
			return retried(target, async () => {
				const answer = await call(name, target, {method: 'HEAD'});
				if (answer.status === 200) {
					return true;
				}

				if (answer.status === 404) {
					return false;
				}

				throw failure(answer, `a check of blob ${digest} in ${name}`, name);
			});
		},
		putBlob(name, blob, open, from) {
			return retried(`${root}/v2/${name}/blobs/uploads/`, async () => {
				const session = await uploadSession(name, blob.digest, from);
				if (session === 'mounted') {
					return 'mounted';
				}

				// The location may carry a query of its own (distribution's `_state`): the digest is appended.
				const target = `${session}${session.includes('?') ? '&' : '?'}digest=${encodeURIComponent(blob.digest)}`;
				const answer = await call(name, target, {
					method: 'PUT',
					headers: {'content-type': 'application/octet-stream', 'content-length': String(blob.size)},
					body: open,
				});
				if (answer.status !== 201) {
					throw failure(answer, `blob ${blob.digest} for ${name}`, name);
				}

				const declared = firstHeader(answer.headers['docker-content-digest']);
				if (declared && declared !== blob.digest) {
					throw new ImageError(`${host} stored blob ${blob.digest} of ${name} as ${declared}`, {
						code: 'ERR_DIGEST',
					});
				}

				return 'uploaded';
			});
		},
		manifestDigest(name, reference) {
			const target = `${root}/v2/${name}/manifests/${reference}`;
			return retried(target, async () => {
				const answer = await call(name, target, {
					method: 'HEAD',
					headers: {accept: acceptedManifestTypes.join(', ')},
				});
				if (answer.status === 404) {
					return undefined;
				}

				if (answer.status !== 200) {
					throw failure(answer, `a check of ${name}:${reference}`, name);
				}

				return firstHeader(answer.headers['docker-content-digest']);
			});
		},
		putManifest(name, reference, manifest) {
			const target = `${root}/v2/${name}/manifests/${reference}`;
			const where = reference.startsWith('sha256:') ? `${name}@${reference}` : `${name}:${reference}`;
			return retried(target, async () => {
				const answer = await call(name, target, {
					method: 'PUT',
					headers: {'content-type': manifest.mediaType},
					body: async () => manifest.bytes,
				});
				if (answer.status !== 201) {
					throw failure(answer, `manifest ${where}`, name);
				}

				const declared = firstHeader(answer.headers['docker-content-digest']);
				if (declared && declared !== manifest.digest) {
					throw new ImageError(
						`${host} stored ${where} as ${declared}, not ${manifest.digest} as pushed (the registry changed the manifest)`,
						{code: 'ERR_DIGEST'},
					);
				}
			});
		},
	};
}
