/**
The checks of Defend content, wherever its bytes come from (a download, a bundle,
the store at rest): a manifest zip holds a manifest.json that parses (catalog.ts
rules), and an artifact's bytes match `encoded_sha256` and `encoded_size`, then,
inflated, `decoded_sha256` and `decoded_size`, as Endpoint checks them. An encrypted
artifact (Endpoint holds its key) is checked on its encoded bytes only.
*/
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {createInflate} from 'node:zlib';
import {ChecksumError, DefendError} from '../errors.js';
import {openZipFile, readEntry} from '../zip.js';
import {type DefendArtifactRef, type DefendManifest, parseDefendManifest} from './catalog.js';

const defendFailure = (message: string, cause?: unknown) => new DefendError(message, {cause});

/** Read and check the manifest inside a manifest zip on local disk. Throws DefendError. */
export async function readDefendManifestZip(zipFile: string, label: string): Promise<DefendManifest> {
	const zip = await openZipFile(zipFile, label, defendFailure);
	try {
		const entry = zip.entries.get('manifest.json');
		if (!entry) {
			throw new DefendError(`${label} holds no manifest.json`);
		}

		const text = (await readEntry(zip, entry, 64 * 1024 * 1024, defendFailure)).toString('utf8');
		return parseDefendManifest(text, label);
	} finally {
		zip.close();
	}
}

/** More bytes came out of an artifact than its manifest allows: inflating stops there. */
class TooLarge extends Error {}

/** Counts and hashes what passes through, refusing more than `limit` bytes (a zlib bomb stops early). */
function measure(limit = Number.POSITIVE_INFINITY): {
	sink: Writable;
	digest: () => {size: number; sha256: string};
} {
	const hash = createHash('sha256');
	let size = 0;
	const sink = new Writable({
		write(chunk: Buffer, _encoding, done) {
			size += chunk.length;
			if (size > limit) {
				done(new TooLarge());
				return;
			}

			hash.update(chunk);
			done();
		},
	});
	return {sink, digest: () => ({size, sha256: hash.digest('hex')})};
}

/**
Check an artifact file on local disk against its manifest entry: the encoded bytes,
then the decoded ones. `encoded` gives the encoded sha256 when a download already
computed it. Throws ChecksumError saying what differs (the caller names the file).
*/
export async function checkDefendArtifact(
	file: string,
	ref: DefendArtifactRef,
	encoded?: {size: number; sha256: string},
): Promise<void> {
	let raw = encoded;
	if (!raw) {
		const {sink, digest} = measure();
		await pipeline(createReadStream(file), sink);
		raw = digest();
	}

	if (raw.size !== ref.encodedSize || raw.sha256 !== ref.encodedSha256) {
		throw new ChecksumError(
			`${raw.size} bytes with sha256 ${raw.sha256}, the manifest says ${ref.encodedSize} bytes with encoded_sha256 ${ref.encodedSha256}`,
		);
	}

	if (ref.encryption !== 'none') {
		// Decrypting is Endpoint's business: the encoded digest already pins every byte.
		return;
	}

	const {sink, digest} = measure(ref.decodedSize);
	try {
		await (ref.compression === 'zlib'
			? pipeline(createReadStream(file), createInflate(), sink)
			: pipeline(createReadStream(file), sink));
	} catch (error) {
		if (error instanceof TooLarge) {
			throw new ChecksumError(
				`inflates to more than the ${ref.decodedSize} bytes its manifest's decoded_size says`,
			);
		}

		throw new ChecksumError(`does not inflate as zlib: ${(error as Error).message}`);
	}

	const decoded = digest();
	if (decoded.size !== ref.decodedSize || decoded.sha256 !== ref.decodedSha256) {
		throw new ChecksumError(
			`inflates to ${decoded.size} bytes with sha256 ${decoded.sha256}, the manifest says ${ref.decodedSize} bytes with decoded_sha256 ${ref.decodedSha256}`,
		);
	}
}
