/**
Whether an artifact may be published or kept: the one place that puts the rules in
order. An artifact passes when (1) its `.sha512` holds the agent-exact line for it,
(2) the sha512 of its bytes is that line's, and (3) its detached signature is by a
trusted key and matches the bytes. Sync (downloads, and files found in the store),
import and verify all decide here; each rule itself is one function (sidecar.ts,
signature.ts), so changing a rule changes one function.
*/
import {SidecarError} from '../errors.js';
import type {FileDigests} from './digest.js';
import {hashSource} from './hashing.js';
import type {TrustedKeys} from './keys.js';
import {checkSha512, parseSha512Sidecar} from './sidecar.js';
import {checkSignature, type PreparedSignature, prepareSignature, type SignedSource} from './signature.js';

/** The rules, in the order they are checked. */
export type ArtifactRule = 'sha512-line' | 'sha512' | 'signature';

/**
What an artifact's two sidecars claim, read before its bytes are: the signature
must be known first, so that one pass over the bytes feeds both checks.
*/
export type ArtifactClaims = {
	readonly fileName: string;
	/** The sha512 the `.sha512` line gives. */
	readonly sha512: string;
	readonly signature: PreparedSignature;
};

/**
Read both sidecars of `fileName`: rule 1, and the part of rule 3 that needs no
bytes (a signature by a trusted key). Throws SidecarError or SignatureError.
*/
export async function readClaims(
	fileName: string,
	sidecars: {readonly sha512: string; readonly asc: string},
	trusted: TrustedKeys,
): Promise<ArtifactClaims> {
	const sha512 = parseSha512Sidecar(sidecars.sha512, fileName);
	const signature = await prepareSignature(sidecars.asc, fileName, trusted);
	return {fileName, sha512, signature};
}

/**
Check the bytes against the claims, given their digests from one pass (a download
computes them as it writes): rule 2, then rule 3. `source` is read again only for the
rare signatures the pass does not cover. Throws ChecksumError or SignatureError.
*/
export async function checkBytes(
	claims: ArtifactClaims,
	digests: FileDigests,
	source: SignedSource,
	trusted: TrustedKeys,
): Promise<{keyId: string}> {
	checkSha512(claims.fileName, digests.sha512, claims.sha512);
	return checkSignature(claims.signature, digests, source, trusted);
}

/** An artifact whose bytes are at rest: a local path, or an opener of a stream from the store. */
export type StoredArtifact = {
	readonly fileName: string;
	/** The `.sha512` text; undefined when the file is missing. */
	readonly sha512Sidecar: string | undefined;
	/** The `.asc` text; undefined when the file is missing. */
	readonly ascSidecar: string | undefined;
	readonly source: SignedSource;
};

/**
What the check of an artifact at rest found: the digests of its bytes (one pass), and
either the key that signed it or the first rule it breaks, with the error that says so.
*/
export type ArtifactVerdict = {readonly digests: FileDigests} & (
	| {readonly keyId: string; readonly broken?: undefined}
	| {readonly keyId?: undefined; readonly broken: {readonly rule: ArtifactRule; readonly error: unknown}}
);

/**
Check an artifact at rest against every rule, reading its bytes once. Breaking a
rule is the answer, not an error (verify reports it, import words it its own way);
only a failure to read the bytes throws.
*/
export async function inspectArtifact(
	artifact: StoredArtifact,
	trusted: TrustedKeys,
): Promise<ArtifactVerdict> {
	const {fileName, sha512Sidecar, ascSidecar, source} = artifact;
	// Read first so that the pass feeds both checks; a bad signature is reported in its turn.
	let signature: PreparedSignature | undefined;
	let unreadable: unknown;
	if (ascSidecar === undefined) {
		unreadable = new SidecarError(`${fileName}.asc is missing`);
	} else {
		signature = await prepareSignature(ascSidecar, fileName, trusted).catch((error: unknown) => {
			unreadable = error;
			return undefined;
		});
	}

	const digests = await hashSource(source, signature);
	const broken = (rule: ArtifactRule, error: unknown): ArtifactVerdict => ({digests, broken: {rule, error}});
	if (sha512Sidecar === undefined) {
		return broken('sha512-line', new SidecarError(`${fileName}.sha512 is missing`));
	}

	let claimed: string;
	try {
		claimed = parseSha512Sidecar(sha512Sidecar, fileName);
	} catch (error) {
		return broken('sha512-line', error);
	}

	try {
		checkSha512(fileName, digests.sha512, claimed);
	} catch (error) {
		return broken('sha512', error);
	}

	if (!signature) {
		return broken('signature', unreadable);
	}

	try {
		const {keyId} = await checkSignature(signature, digests, source, trusted);
		return {digests, keyId};
	} catch (error) {
		return broken('signature', error);
	}
}

/**
Check an artifact at rest as inspectArtifact does, throwing the first broken rule's
error (SidecarError, ChecksumError, SignatureError). Returns its sha512 and signer.
*/
export async function verifyArtifact(
	artifact: StoredArtifact,
	trusted: TrustedKeys,
): Promise<{sha512: string; keyId: string}> {
	const {digests, keyId, broken} = await inspectArtifact(artifact, trusted);
	if (broken) {
		throw broken.error;
	}

	return {sha512: digests.sha512, keyId};
}
