/**
Registry credentials from the files Docker, skopeo and podman keep them in: the
containers auth file (`REGISTRY_AUTH_FILE`) and Docker's `config.json`. Never from
flags, so they stay out of shell history, process lists and run records. Config
decides which files to read (from the environment); this module only reads them.
*/
import {readFileSync} from 'node:fs';
import {UsageError} from '../errors.js';

/** What a registry host's entry gives. */
export type Credentials =
	| {readonly kind: 'basic'; readonly username: string; readonly password: string; readonly file: string}
	| {readonly kind: 'bearer'; readonly token: string; readonly file: string}
	/** Kept by a credential helper program, which the mirror does not run. */
	| {readonly kind: 'helper'; readonly helper: string; readonly file: string}
	/** An OAuth identity token (`docker login` against some registries): not supported. */
	| {readonly kind: 'identity'; readonly file: string};

/** Looks up the credentials for a registry host and repository. */
export type CredentialStore = {
	/** The credentials for `host` (with its port), most specific key first; undefined: anonymous. */
	readonly lookup: (host: string, repository: string) => Credentials | undefined;
};

type AuthFile = {
	readonly path: string;
	readonly auths: Record<
		string,
		{auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string}
	>;
	readonly credsStore?: string | undefined;
	readonly credHelpers: Record<string, string>;
};

const dockerHub = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** An auths key as a host (and namespace, for the containers file): scheme, `/v1/` and case dropped. */
function normalizeKey(key: string): string {
	const bare = key
		.replace(/^[a-z]+:\/\//i, '')
		.replace(/\/v[12]\/?$/, '')
		.replace(/\/+$/, '')
		.toLowerCase();
	const [host = '', ...rest] = bare.split('/');
	return [dockerHub.has(host) ? 'docker.io' : host, ...rest].join('/');
}

function readAuthFile(path: string): AuthFile | undefined {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}

		throw new UsageError(`cannot read registry credentials ${path}: ${(error as Error).message}`);
	}

	let data: Record<string, unknown>;
	try {
		data = JSON.parse(text) as Record<string, unknown>;
	} catch (error) {
		throw new UsageError(`registry credentials ${path} are not JSON: ${(error as Error).message}`);
	}

	const auths = (
		typeof data.auths === 'object' && data.auths !== null ? data.auths : {}
	) as AuthFile['auths'];
	const helpers = (
		typeof data.credHelpers === 'object' && data.credHelpers !== null ? data.credHelpers : {}
	) as Record<string, string>;
	return {
		path,
		auths: Object.fromEntries(Object.entries(auths).map(([key, value]) => [normalizeKey(key), value ?? {}])),
		credsStore: typeof data.credsStore === 'string' && data.credsStore !== '' ? data.credsStore : undefined,
		credHelpers: Object.fromEntries(
			Object.entries(helpers).map(([key, value]) => [normalizeKey(key), value]),
		),
	};
}

function entryCredentials(
	entry: AuthFile['auths'][string],
	file: string,
	key: string,
): Credentials | undefined {
	if (entry.registrytoken) {
		return {kind: 'bearer', token: entry.registrytoken, file};
	}

	if (entry.auth) {
		const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		if (colon < 0) {
			throw new UsageError(
				`registry credentials ${file}: the auth of "${key}" is not base64 of user:password`,
			);
		}

		return {kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), file};
	}

	if (entry.username !== undefined && entry.password !== undefined) {
		return {kind: 'basic', username: entry.username, password: entry.password, file};
	}

	return entry.identitytoken ? {kind: 'identity', file} : undefined;
}

/**
Read the credential files in the order given (the containers auth file first, then
Docker's config.json); a missing file is skipped, an unreadable or malformed one is
a UsageError. The first file with an entry for the host decides.
*/
export function loadCredentials(paths: readonly string[]): CredentialStore {
	const files = paths.flatMap((path) => readAuthFile(path) ?? []);
	return {
		lookup(host, repository) {
			const hostKey = normalizeKey(host);
			// Most specific first, as containers-auth.json(5) looks them up: host/a/b, host/a, host.
			const parts = repository.split('/');
			const keys = [
				...parts.map((_, index) => [hostKey, ...parts.slice(0, parts.length - index)].join('/')),
				hostKey,
			];
			for (const file of files) {
				const helper = file.credHelpers[hostKey];
				if (helper) {
					return {kind: 'helper', helper, file: file.path};
				}

				for (const key of keys) {
					const entry = file.auths[key];
					const credentials = entry && entryCredentials(entry, file.path, key);
					if (credentials) {
						return credentials;
					}
				}

				// `docker login` with a credsStore leaves an empty entry for the host: the secret is in the store.
				if (file.credsStore && keys.some((key) => file.auths[key] !== undefined)) {
					return {kind: 'helper', helper: file.credsStore, file: file.path};
				}
			}

			return undefined;
		},
	};
}
