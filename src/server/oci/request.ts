/**
What a request under `/v2/` asks for. A repository name holds slashes, so it is
everything between `/v2/` and the last `/manifests/`, `/blobs/` or `/tags/list`;
names, tags and digests are checked against the distribution spec's grammar here,
once, before anything is looked up.
*/
import {isDigest, isRepository, isTag} from '../../images/catalog.js';

/** A request of the pull API, or why it is not one. */
export type OciRequest =
	| {readonly kind: 'base'}
	| {readonly kind: 'catalog'}
	| {readonly kind: 'tags'; readonly name: string}
	| {readonly kind: 'manifest'; readonly name: string; readonly reference: string; readonly byDigest: boolean}
	| {readonly kind: 'blob'; readonly name: string; readonly digest: string}
	| {readonly kind: 'invalid'; readonly code: InvalidCode; readonly message: string}
	| {readonly kind: 'unknown'; readonly code: 'MANIFEST_UNKNOWN' | 'BLOB_UNKNOWN'; readonly name: string}
	| {readonly kind: 'none'};

/** The spec's codes for a malformed name, tag or digest (answered 400). */
export type InvalidCode = 'NAME_INVALID' | 'TAG_INVALID' | 'DIGEST_INVALID';

/** Any digest the grammar allows (image-spec); only sha256 ones can be held. */
/** What a reference that is not a digest by the grammar answers, as distribution words it. */
const digestInvalid: OciRequest = {
	kind: 'invalid',
	code: 'DIGEST_INVALID',
	message: 'provided digest did not match the digest grammar',
};

const anyDigest = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function decode(raw: string): string | undefined {
	try {
		return decodeURIComponent(raw);
	} catch {
		return undefined;
	}
}

/** Check a digest: a sha256 one to look up, another well-formed one (never held), or invalid. */
function checkDigest(value: string): 'sha256' | 'other' | 'invalid' {
	if (isDigest(value)) {
		return 'sha256';
	}

	return anyDigest.test(value) && !value.startsWith('sha256:') ? 'other' : 'invalid';
}

/** Parse `path` (Koa's `ctx.path`, starting with `/v2`). */
export function parseOciPath(path: string): OciRequest {
	if (path === '/v2' || path === '/v2/') {
		return {kind: 'base'};
	}

	const rest = path.slice('/v2/'.length);
	if (rest === '_catalog') {
		return {kind: 'catalog'};
	}

	const manifests = rest.lastIndexOf('/manifests/');
	const blobs = rest.lastIndexOf('/blobs/');
	const tags = rest.endsWith('/tags/list') ? rest.length - '/tags/list'.length : -1;
	const at = Math.max(manifests, blobs, tags);
	if (at <= 0) {
		return {kind: 'none'};
	}

	const name = decode(rest.slice(0, at));
	if (name === undefined || !isRepository(name)) {
		return {kind: 'invalid', code: 'NAME_INVALID', message: 'invalid repository name'};
	}

	if (at === tags) {
		return {kind: 'tags', name};
	}

	const reference = decode(rest.slice(at + (at === manifests ? '/manifests/' : '/blobs/').length));
	if (at === blobs) {
		const check = reference === undefined ? 'invalid' : checkDigest(reference);
		if (check === 'invalid') {
			return digestInvalid;
		}

		return check === 'other'
			? {kind: 'unknown', code: 'BLOB_UNKNOWN', name}
			: {kind: 'blob', name, digest: reference as string};
	}

	if (reference?.includes(':')) {
		const check = checkDigest(reference);
		if (check === 'invalid') {
			return digestInvalid;
		}

		return check === 'other'
			? {kind: 'unknown', code: 'MANIFEST_UNKNOWN', name}
			: {kind: 'manifest', name, reference, byDigest: true};
	}

	if (reference === undefined || !isTag(reference)) {
		return {kind: 'invalid', code: 'TAG_INVALID', message: 'invalid tag'};
	}

	return {kind: 'manifest', name, reference, byDigest: false};
}

/**
Whether a manifest of `mediaType` may be answered to `accept` (Node joins repeated
Accept headers with ", "): no Accept, `*\/*`, or the type itself. Equivalent OCI and
Docker types do not count: stored bytes cannot be converted.
*/
export function acceptsType(accept: string | undefined, mediaType: string): boolean {
	if (!accept?.trim()) {
		return true;
	}

	return accept.split(',').some((each) => {
		const type = (each.split(';')[0] ?? '').trim().toLowerCase();
		return type === '*/*' || type === mediaType.toLowerCase();
	});
}
