/**
A client that polls for protections the way Elastic Endpoint does with
`advanced.artifacts.global.base_url` set (docs/defend-artifacts.md): a conditional GET of
its version's manifest zip (If-None-Match with the ETag it holds), `manifest.json` from
the zip, then each artifact at `base_url + relative_url`, checked against
`encoded_sha256`/`encoded_size`, inflated and checked against
`decoded_sha256`/`decoded_size`. It insists on what Endpoint insists on: an ETag,
strong and without `-`, and no Content-Encoding. Independent of src/, so it checks the
mirror rather than agreeing with it.
*/
import {createHash} from 'node:crypto';
import {inflateSync} from 'node:zlib';
import yauzl from 'yauzl';
import {request} from './http.js';

/** One manifest entry, as Endpoint reads it. */
type Entry = {
	relative_url: string;
	encoded_sha256: string;
	encoded_size: number;
	decoded_sha256: string;
	decoded_size: number;
	compression_algorithm: string;
	encryption_algorithm?: string;
};

/** What one poll did. */
export type EndpointPoll =
	| {readonly status: 304}
	| {
			readonly status: 200;
			readonly manifestVersion: string;
			/** Artifacts downloaded and checked, by relative_url. */
			readonly artifacts: readonly string[];
			/** A line per file, for a closing note. */
			readonly log: readonly string[];
	  };

/** A polling endpoint of one Defend version against one host. */
export type EndpointClient = {
	/** Poll once; throws an Error saying what Endpoint would refuse. */
	readonly poll: () => Promise<EndpointPoll>;
	/** The ETag of the manifest held (after a 200). */
	readonly etag: () => string | undefined;
};

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** `manifest.json` from a manifest zip's bytes. */
function manifestJson(zip: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(zip, {lazyEntries: true}, (error, file) => {
			if (error || !file) {
				reject(error ?? new Error('not a zip'));
				return;
			}

			file.on('error', reject);
			file.on('end', () => reject(new Error('the manifest zip holds no manifest.json')));
			file.on('entry', (entry: yauzl.Entry) => {
				if (entry.fileName !== 'manifest.json') {
					file.readEntry();
					return;
				}

				file.openReadStream(entry, (openError, stream) => {
					if (openError || !stream) {
						reject(openError ?? new Error('unreadable manifest.json'));
						return;
					}

					const chunks: Buffer[] = [];
					stream.on('data', (chunk: Buffer) => chunks.push(chunk));
					stream.on('error', reject);
					stream.on('end', () => {
						file.close();
						resolve(Buffer.concat(chunks));
					});
				});
			});
			file.readEntry();
		});
	});
}

/** Check the headers Endpoint relies on; returns the ETag. */
function checkHeaders(
	what: string,
	headers: Record<string, string | string[] | undefined>,
	size: number,
): string {
	const etag = headers.etag;
	if (typeof etag !== 'string' || !/^"[^"-]+"$/.test(etag)) {
		throw new Error(`${what}: ETag ${String(etag)} is missing, weak or has a dash`);
	}

	if (headers['content-encoding'] !== undefined) {
		throw new Error(`${what}: Content-Encoding ${String(headers['content-encoding'])}`);
	}

	if (headers['content-length'] !== String(size)) {
		throw new Error(`${what}: Content-Length ${String(headers['content-length'])}, body ${size} bytes`);
	}

	return etag;
}

/** An endpoint of Defend `version` polling `baseUrl` (no trailing slash). */
export function endpointClient(baseUrl: string, version: string): EndpointClient {
	let held: string | undefined;
	const manifestUrl = `/downloads/endpoint/manifest/artifacts-${version}.zip`;
	// Endpoint advertises compression like any HTTP client; the bytes must come back as stored.
	const accept = {'Accept-Encoding': 'gzip, deflate, br'};
	return {
		etag: () => held,
		async poll() {
			const answer = await request(baseUrl, manifestUrl, {
				headers: {...accept, ...(held ? {'If-None-Match': held} : {})},
			});
			if (answer.status === 304) {
				if (answer.headers.etag !== held) {
					throw new Error(`manifest 304 with ETag ${String(answer.headers.etag)}, held ${String(held)}`);
				}

				return {status: 304};
			}

			if (answer.status !== 200) {
				throw new Error(`manifest: status ${answer.status}`);
			}

			const etag = checkHeaders('manifest', answer.headers, answer.body.length);
			const manifest = JSON.parse((await manifestJson(answer.body)).toString('utf8')) as {
				manifest_version: string;
				artifacts: Record<string, Entry>;
			};
			const log = [`manifest ${manifestUrl}: 200, ${answer.body.length} bytes, ETag ${etag}`];
			const artifacts: string[] = [];
			for (const [identifier, entry] of Object.entries(manifest.artifacts)) {
				const got = await request(baseUrl, entry.relative_url, {headers: accept});
				if (got.status !== 200) {
					throw new Error(`${identifier}: ${entry.relative_url}: status ${got.status}`);
				}

				const artifactTag = checkHeaders(entry.relative_url, got.headers, got.body.length);
				if (got.body.length !== entry.encoded_size || sha256(got.body) !== entry.encoded_sha256) {
					throw new Error(`${identifier}: encoded bytes do not match encoded_sha256/encoded_size`);
				}

				artifacts.push(entry.relative_url);
				if ((entry.encryption_algorithm ?? 'none') !== 'none') {
					// Endpoint decrypts it with a key it holds; this client can check only the encoded bytes.
					log.push(
						`${identifier}: 200, ${got.body.length} bytes (encrypted), sha256 ok, ETag ${artifactTag}`,
					);
					continue;
				}

				const decoded = entry.compression_algorithm === 'zlib' ? inflateSync(got.body) : got.body;
				if (decoded.length !== entry.decoded_size || sha256(decoded) !== entry.decoded_sha256) {
					throw new Error(`${identifier}: decoded bytes do not match decoded_sha256/decoded_size`);
				}

				log.push(
					`${identifier}: 200, ${got.body.length} bytes (${decoded.length} inflated), sha256 ok, ETag ${artifactTag}`,
				);
			}

			// Only a manifest whose every artifact checked out is taken, as Endpoint does.
			held = etag;
			return {status: 200, manifestVersion: manifest.manifest_version, artifacts, log};
		},
	};
}
