/**
What an upstream failure means: whether a retry may help, whether the host cannot
be reached at all, or whether the local disk is at fault. Pure functions over the
errors got, Node and the file system throw.
*/
import {RequestError} from 'got';
import {describeError, MirrorError, NotFoundError, UpstreamError} from '../errors.js';
import {redactText} from '../redact.js';

/** The upstream's certificate is not trusted: retrying will not help, --ca-file might. */
const tlsTrustCodes = new Set([
	'CERT_HAS_EXPIRED',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Failures that will not pass by retrying: the host does not resolve, or is not trusted. */
const nonRetryableCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', ...tlsTrustCodes]);

/**
Failures that mean "this host cannot be reached from here at all" when it has not
answered once in this run: no name, nobody listening, no route. They fail the run at
once instead of every file slowly (the same answer would come for each of them).
*/
const unreachableCodes = new Set([
	'ENOTFOUND',
	'EAI_AGAIN',
	'ECONNREFUSED',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'EHOSTDOWN',
	'ENETDOWN',
]);

/** The first code in an error's cause chain that `codes` holds. */
function codeIn(error: unknown, codes: ReadonlySet<string>): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current; depth++) {
		const code = (current as {code?: unknown}).code;
		if (typeof code === 'string' && codes.has(code)) {
			return code;
		}

		current = (current as {cause?: unknown}).cause;
	}

	return undefined;
}

/** Whether a timeout happened before a connection stood (a firewall that drops packets). */
function isConnectTimeout(error: unknown): boolean {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current; depth++) {
		const event = (current as {event?: unknown}).event;
		if (
			(current as {code?: unknown}).code === 'ETIMEDOUT' &&
			['lookup', 'connect', 'secureConnect'].includes(String(event))
		) {
			return true;
		}

		current = (current as {cause?: unknown}).cause;
	}

	return false;
}

/** The local disk failed us: retrying the upstream will not help. */
const localIoCodes = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EMFILE', 'ENFILE']);

/** Turn whatever a request threw into an UpstreamError that knows whether to retry (a lost lock passes as it is). */
export function toUpstreamError(url: string, error: unknown): MirrorError {
	// A lost lock is not the upstream's doing: it ends the run as it is, never retried.
	if (
		error instanceof UpstreamError ||
		error instanceof NotFoundError ||
		(error instanceof MirrorError && error.code === 'ERR_LOCK_LOST')
	) {
		return error;
	}

	const code = (error as {code?: string}).code;
	if (tlsTrustCodes.has(code ?? '')) {
		return new UpstreamError(
			redactText(url),
			`TLS certificate of ${new URL(url).host} not trusted (${code}); see --ca-file`,
			{
				retryable: false,
				cause: error,
				code: 'ERR_TLS',
			},
		);
	}

	if (localIoCodes.has(code ?? '') && !(error instanceof RequestError)) {
		return new UpstreamError(
			redactText(url),
			`cannot write the download of ${redactText(url)}: ${describeError(error)}`,
			{
				retryable: false,
				cause: error,
				code: 'ERR_LOCAL_IO',
			},
		);
	}

	const message = redactText(
		error instanceof RequestError ? `${error.code}: ${error.message}` : describeError(error),
	);
	return new UpstreamError(redactText(url), `${message} (${redactText(url)})`, {
		retryable: !nonRetryableCodes.has(code ?? ''),
		cause: error,
	});
}

/** The error for an HTTP status other than the one wanted. */
export function statusError(url: string, status: number): UpstreamError | NotFoundError {
	if (status === 404 || status === 410) {
		return new NotFoundError(redactText(url));
	}

	const retryable = status >= 500 || status === 408 || status === 429;
	return new UpstreamError(redactText(url), `upstream answered HTTP ${status} for ${redactText(url)}`, {
		status,
		retryable,
	});
}

/**
The code that says a host cannot be reached from here at all (no name, nobody
listening, no route, no connection before the timeout), or undefined.
*/
export function unreachableCode(error: unknown): string | undefined {
	return codeIn(error, unreachableCodes) ?? (isConnectTimeout(error) ? 'ETIMEDOUT' : undefined);
}
