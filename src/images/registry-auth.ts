/**
How the mirror logs in to a registry, pulling (sync) or pushing (push-images): the
`WWW-Authenticate` challenge, the credentials a host has in the credential files
(refusing the kinds the mirror cannot use, with the reason), and bearer tokens from
the challenge's realm, cached per scope until shortly before they run out. The HTTP
request itself is the caller's, so both clients keep their own transport.
*/
import {ImageError} from '../errors.js';
import type {CredentialStore, Credentials} from './credentials.js';

/** What a registry's 401 asks for; `none` when `/v2/` answered 200. */
export type Challenge =
	| {readonly kind: 'none'}
	| {readonly kind: 'basic'}
	| {readonly kind: 'bearer'; readonly realm: string; readonly service: string | undefined};

/** Parse `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (or Basic). */
export function parseChallenge(header: string | readonly string[] | undefined): Challenge | undefined {
	const value = typeof header === 'string' ? header : header?.[0];
	if (!value) {
		return undefined;
	}

	const scheme = /^\s*(\w+)/.exec(value)?.[1]?.toLowerCase();
	if (scheme === 'basic') {
		return {kind: 'basic'};
	}

	if (scheme !== 'bearer') {
		return undefined;
	}

	const parameters = new Map<string, string>();
	for (const match of value.matchAll(/(\w+)="([^"]*)"/g)) {
		parameters.set((match[1] as string).toLowerCase(), match[2] as string);
	}

	const realm = parameters.get('realm');
	return realm ? {kind: 'bearer', realm, service: parameters.get('service')} : undefined;
}

/** A refusal: bad, missing or unusable credentials (ERR_REGISTRY_AUTH). */
export function authFailure(message: string): ImageError {
	return new ImageError(message, {code: 'ERR_REGISTRY_AUTH'});
}

/** `Authorization: Basic` of a user name and password from a credential file. */
export function basicHeader(credentials: Extract<Credentials, {kind: 'basic'}>): string {
	return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Credentials the mirror can send. */
export type UsableCredentials = Extract<Credentials, {kind: 'basic' | 'bearer'}>;

/**
The credentials for `host` and `name`, or undefined (anonymous). Throws ERR_REGISTRY_AUTH
for credentials kept by a helper program or as an OAuth identity token: going on
anonymously would hide why the registry refuses.
*/
export function usableCredentials(
	credentials: CredentialStore | undefined,
	host: string,
	name: string,
): UsableCredentials | undefined {
	const found = credentials?.lookup(host, name);
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
}

/** A GET the token cache sends through its caller's client: status and body, any status answered. */
export type TokenGet = (
	url: string,
	headers: Record<string, string>,
) => Promise<{status: number; body: Buffer}>;

/** Bearer tokens of one registry, by scope. */
export type TokenCache = {
	/** The `Authorization` value for `scopes`, from the cache or the realm. Throws ERR_REGISTRY_AUTH. */
	header(how: Challenge & {kind: 'bearer'}, name: string, scopes: readonly string[]): Promise<string>;
	/** Forget the token of `scopes` (the registry refused it); whether there was one. */
	forget(scopes: readonly string[]): boolean;
	/**
	The headers a request to `name` needs as `how` says: none for an open registry, the
	host's Basic credentials, or a bearer token for `scopes`. Throws ERR_REGISTRY_AUTH.
	*/
	headers(how: Challenge, name: string, scopes: readonly string[]): Promise<Record<string, string>>;
};

/** Tokens for `host`, asked with `get`; `found` gives the credentials sent to the realm. */
export function createTokenCache(
	host: string,
	get: TokenGet,
	credentialsFor: (name: string) => UsableCredentials | undefined,
): TokenCache {
	const tokens = new Map<string, {header: string; expires: number}>();
	const cache: TokenCache = {
		async header(how, name, scopes) {
			const key = scopes.join(' ');
			const held = tokens.get(key);
			if (held && held.expires > Date.now()) {
				return held.header;
			}

			const found = credentialsFor(name);
			if (found?.kind === 'bearer') {
				return `Bearer ${found.token}`;
			}

			const query = new URLSearchParams(how.service ? {service: how.service} : {});
			for (const scope of scopes) {
				query.append('scope', scope);
			}

			const answer = await get(
				`${how.realm}${how.realm.includes('?') ? '&' : '?'}${query}`,
				found?.kind === 'basic' ? {authorization: basicHeader(found)} : {},
			);
			const what = scopes.some((scope) => scope.endsWith(',push')) ? `to push ${name}` : `for ${name}`;
			if (answer.status !== 200) {
				throw authFailure(
					found
						? `${host} refused the credentials from ${found.file} ${what} (HTTP ${answer.status} from its token service)`
						: `${host} refused an anonymous token ${what} (HTTP ${answer.status} from its token service); give credentials in a Docker config.json or REGISTRY_AUTH_FILE`,
				);
			}

			let data: {token?: unknown; access_token?: unknown; expires_in?: unknown};
			try {
				data = JSON.parse(answer.body.toString('utf8')) as typeof data;
			} catch {
				throw authFailure(`the token service of ${host} answered something that is not JSON`);
			}

			// docker.elastic.co has been seen answering `access_token` only, other services `token`.
			const value = typeof data.token === 'string' && data.token ? data.token : data.access_token;
			if (typeof value !== 'string' || value === '') {
				throw authFailure(`the token service of ${host} answered no token ${what}`);
			}

			// The spec's default lifetime is 60 s; a margin keeps a token from running out on the way.
			const lifetime = typeof data.expires_in === 'number' && data.expires_in > 0 ? data.expires_in : 60;
			const header = `Bearer ${value}`;
			tokens.set(key, {header, expires: Date.now() + Math.max(lifetime - 15, 5) * 1000});
			return header;
		},
		forget(scopes) {
			return tokens.delete(scopes.join(' '));
		},
		async headers(how, name, scopes): Promise<Record<string, string>> {
			if (how.kind === 'none') {
				return {};
			}

			if (how.kind === 'basic') {
				const found = credentialsFor(name);
				if (found?.kind !== 'basic') {
					throw authFailure(`${host} asks for a user name and password, and none is given for it`);
				}

				return {authorization: basicHeader(found)};
			}

			return {authorization: await cache.header(how, name, scopes)};
		},
	};
	return cache;
}
