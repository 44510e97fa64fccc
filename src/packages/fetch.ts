/**
One package version from the registry: its package info and detached signature
first, then the zip into the store's temp folder (resumed where a broken transfer
left off, hashed for the signature as it streams), checked by verifyPackage, then
published signature, zip, info, in that order. A version that does not check out is
never published.
*/
import {createHash} from 'node:crypto';
import {downloadFailed, type Outcome, published, type RunContext} from '../agent/context.js';
import {downloadChecked, stagedDownload} from '../agent/staged-download.js';
import {type MirrorError, NotFoundError, PackageError, SignatureError} from '../errors.js';
import {prepareSignature} from '../trust/signature.js';
import type {RetryEvent} from '../upstream/types.js';
import {packagePaths} from './catalog.js';
import type {SelectedPackage} from './resolve.js';
import {verifyPackage} from './verify.js';

const signatureMaxBytes = 64 * 1024;
/** Package info lists every data stream and variable: large packages have megabytes of it. */
const infoMaxBytes = 32 * 1024 * 1024;

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

/** The URL of a root-relative path the registry gave (`/epr/...`), or of the path it publishes by default. */
function registryUrl(registry: string, given: unknown, fallback: string): string {
	const root = registry.replace(/\/+$/, '');
	return typeof given === 'string' && given.startsWith('/') && !given.startsWith('//')
		? `${root}${given}`
		: `${root}/${fallback}`;
}

/** The package info's `download` and `signature_path`, when it is JSON with them (verifyPackage judges the rest). */
function parseInfo(info: Buffer): {download?: unknown; signature_path?: unknown} {
	try {
		const {download, signature_path} = JSON.parse(info.toString('utf8')) as Record<string, unknown>;
		return {
			...(download === undefined ? {} : {download}),
			...(signature_path === undefined ? {} : {signature_path}),
		};
	} catch {
		return {};
	}
}

/** GET a small file of the version, naming what is missing when upstream has none. */
async function fetchSmall(
	context: RunContext,
	zipPath: string,
	url: string,
	maxBytes: number,
	missing: () => MirrorError,
): Promise<Buffer> {
	try {
		const onRetry = (event: RetryEvent) => context.emit({type: 'retry', path: zipPath, ...event});
		return (await context.client.fetch(url, {maxBytes, onRetry})).body;
	} catch (error) {
		throw error instanceof NotFoundError ? missing() : error;
	}
}

/** Download, verify and publish one package version from `registry`. */
export async function fetchPackage(
	context: RunContext,
	registry: string,
	pkg: SelectedPackage,
): Promise<Outcome> {
	const {name, version, search} = pkg;
	const paths = packagePaths(name, version);
	const label = `${name}-${version}.zip`;
	const staged = stagedDownload(context, paths.zip);
	const {partPath} = staged;

	try {
		const info = await fetchSmall(
			context,
			paths.zip,
			`${registry.replace(/\/+$/, '')}/package/${name}/${version}/`,
			infoMaxBytes,
			() => new PackageError(`the registry has no package info for ${name} ${version}`),
		);
		// Kibana takes the zip and signature paths from the package info; the search entry says the same.
		const where = {...search, ...parseInfo(info)};
		const signature = await fetchSmall(
			context,
			paths.zip,
			registryUrl(registry, where.signature_path, paths.signature),
			signatureMaxBytes,
			() => new SignatureError(`${label}.sig is missing upstream`),
		);
		const armored = signature.toString('utf8');
		// Read before the download so that the one pass over the zip also feeds the signed digests.
		const prepared = await prepareSignature(armored, label, context.trusted, `${label}.sig`);

		const {result, checked: facts} = await downloadChecked(
			context,
			registryUrl(registry, where.download, paths.zip),
			paths.zip,
			staged,
			({digests}) =>
				verifyPackage(
					{name, version, zipFile: partPath, signature: armored, info, digests, search},
					context.trusted,
				),
			{signature: prepared},
		);
		await context.writer.publishPackage({
			files: [
				{relative: paths.signature, from: {data: signature}, modified: result.lastModified},
				{relative: paths.zip, from: {partPath}, modified: result.lastModified, sha512: facts.sha512},
				{relative: paths.info, from: {data: info}, modified: result.lastModified},
			],
			entry: {
				path: paths.zip,
				name,
				version,
				size: result.size,
				sha512: facts.sha512,
				signature: {size: signature.length, sha512: sha512(signature)},
				info: {size: info.length, sha512: sha512(info)},
				formatVersion: facts.formatVersion,
				search,
				upstreamModified: result.lastModified?.toISOString(),
			},
		});
		return await published(context, paths.zip, staged.metaPath, {...result, sha512: facts.sha512});
	} catch (error) {
		return downloadFailed(context, paths.zip, error, staged.discard);
	}
}
