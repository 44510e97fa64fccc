/**
One base error for everything this project reports. `code` is a stable string that
scripts and tests can match; `message` is one line a human can act on.
*/
export class MirrorError extends Error {
	readonly code: string;

	constructor(code: string, message: string, options?: {cause?: unknown}) {
		super(message, options);
		this.name = 'MirrorError';
		this.code = code;
	}
}

/** A flag, environment variable or config file value is wrong. Exit code 2. */
export class UsageError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown; code?: string}) {
		super(options?.code ?? 'ERR_USAGE', message, options);
		this.name = 'UsageError';
	}
}

/**
The object store cannot be used as configured: no such bucket, credentials refused,
endpoint unreachable. A setup problem like a bad flag, so also exit code 2.
*/
export class StoreAccessError extends UsageError {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, {...options, code: 'ERR_STORE_ACCESS'});
		this.name = 'StoreAccessError';
	}
}

/** Another process holds the mirror's sync lock. Exit code 3. */
export class LockHeldError extends MirrorError {
	constructor(message: string) {
		super('ERR_LOCKED', message);
		this.name = 'LockHeldError';
	}
}

/** The upstream answered 404: the file is not published there. */
export class NotFoundError extends MirrorError {
	readonly url: string;

	constructor(url: string) {
		super('ERR_NOT_FOUND', `not published upstream (404 for ${url})`);
		this.name = 'NotFoundError';
		this.url = url;
	}
}

/**
The upstream misbehaved in a way that may pass: connection reset, timeout, 5xx,
truncated body. The download layer retries these; `retryable` says whether it should.
*/
export class UpstreamError extends MirrorError {
	readonly url: string;
	readonly status: number | undefined;
	readonly retryable: boolean;

	constructor(
		url: string,
		message: string,
		options: {status?: number; retryable: boolean; cause?: unknown; code?: string},
	) {
		super(options.code ?? 'ERR_UPSTREAM', message, {cause: options.cause});
		this.name = 'UpstreamError';
		this.url = url;
		this.status = options.status;
		this.retryable = options.retryable;
	}
}

/** A `.sha512` or `.asc` sidecar is missing or unusable. */
export class SidecarError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('ERR_SIDECAR', message, options);
		this.name = 'SidecarError';
	}
}

/** The artifact's sha512 differs from its `.sha512` sidecar. */
export class ChecksumError extends MirrorError {
	constructor(message: string) {
		super('ERR_CHECKSUM', message);
		this.name = 'ChecksumError';
	}
}

/** The detached PGP signature is invalid or made by a key that is not trusted. */
export class SignatureError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('ERR_SIGNATURE', message, options);
		this.name = 'SignatureError';
	}
}

/** A package version's zip, manifest and package info do not agree, or the zip is malformed. */
export class PackageError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('ERR_PACKAGE', message, options);
		this.name = 'PackageError';
	}
}

/** A Defend manifest is malformed, or names an artifact outside `/downloads/`. */
export class DefendError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('ERR_DEFEND', message, options);
		this.name = 'DefendError';
	}
}

/**
An image does not check out: a manifest or blob whose bytes do not match its digest,
a malformed manifest, or credentials a registry refused. `code` tells them apart:
ERR_DIGEST, ERR_IMAGE, ERR_REGISTRY_AUTH.
*/
export class ImageError extends MirrorError {
	constructor(
		message: string,
		options?: {cause?: unknown; code?: 'ERR_IMAGE' | 'ERR_DIGEST' | 'ERR_REGISTRY_AUTH'},
	) {
		super(options?.code ?? 'ERR_IMAGE', message, options);
		this.name = 'ImageError';
	}
}

/** An export bundle is unreadable, incomplete, tampered with, or does not verify. */
export class BundleError extends MirrorError {
	constructor(message: string, options?: {cause?: unknown}) {
		super('ERR_BUNDLE', message, options);
		this.name = 'BundleError';
	}
}

/** A delta export (`export --since`) found nothing published after its date: not a failure. */
export class NothingNewError extends MirrorError {
	/** The date the export looked after, ISO 8601. */
	readonly since: string;

	constructor(since: string) {
		super('ERR_NOTHING_NEW', `nothing was published since ${since}`);
		this.name = 'NothingNewError';
		this.since = since;
	}
}

/** One line for a human, whatever was thrown. */
export function describeError(error: unknown): string {
	if (error instanceof MirrorError) {
		return error.message;
	}

	if (error instanceof Error) {
		const code = (error as NodeJS.ErrnoException).code;
		return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
	}

	return String(error);
}
