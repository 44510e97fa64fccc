/**
The one rule order for a package version, wherever its bytes come from (a download,
a bundle, the store at rest): the detached signature over the zip verifies against a
trusted key (as Kibana checks it), then the zip opens with one top folder
`<n>-<v>/` whose manifest.yml names the same package and version, then the package
info agrees with that manifest and points at this version's own zip and signature,
and the search entry says what the info says. Only the zip is signed: the info and
the entry are held to it this way. Sync, import and verify all call verifyPackage.
*/
import YAML from 'yaml';
import {PackageError} from '../errors.js';
import type {FileDigests} from '../trust/digest.js';
import {hashSource} from '../trust/hashing.js';
import type {TrustedKeys} from '../trust/keys.js';
import {checkSignature, prepareSignature} from '../trust/signature.js';
import {openZipFile, readEntry} from '../zip.js';

/** One package version's files, as they are to be checked. */
export type PackageFiles = {
	readonly name: string;
	readonly version: string;
	/** The zip on local disk. */
	readonly zipFile: string;
	/** The armored detached signature (`.zip.sig`). */
	readonly signature: string;
	/** The package info JSON as upstream answered `/package/<n>/<v>/`. */
	readonly info: Uint8Array;
	/** The zip's digests when a download computed them already (one pass over the bytes). */
	readonly digests?: FileDigests | undefined;
	/** The version's `/search` entry, which the mirror serves back: it must say what the info says. */
	readonly search?: Readonly<Record<string, unknown>> | undefined;
};

/** What a verified package version is. */
export type VerifiedPackageFacts = {
	/** The zip's sha512. */
	readonly sha512: string;
	readonly formatVersion: string;
	/** The parsed package info. */
	readonly info: Readonly<Record<string, unknown>>;
};

type Json = Record<string, unknown>;

/** A parser's message without the code frame some of them add below it. */
function firstLine(error: unknown): string {
	return ((error as Error).message ?? String(error)).split('\n')[0] ?? '';
}

/** A value at a dotted path, the way the registry's config reader finds it: nested maps or dotted keys. */
function lookup(data: unknown, path: string): unknown {
	if (typeof data !== 'object' || data === null) {
		return undefined;
	}

	const record = data as Json;
	if (path in record) {
		return record[path];
	}

	const dot = path.indexOf('.');
	for (let at = dot; at !== -1; at = path.indexOf('.', at + 1)) {
		const head = path.slice(0, at);
		if (head in record) {
			const found = lookup(record[head], path.slice(at + 1));
			if (found !== undefined) {
				return found;
			}
		}
	}

	return undefined;
}

/** The parts of the package info that must say what the manifest says. */
const agreeing: ReadonlyArray<readonly [field: string, fallback?: unknown]> = [
	['name'],
	['version'],
	['format_version'],
	['type', 'integration'],
	['title'],
	['conditions.kibana.version'],
];

/** Parse manifest.yml of the zip and check where it is and what it names. */
async function readManifest(files: PackageFiles, label: string): Promise<Json> {
	const zip = await openZipFile(files.zipFile, label);
	try {
		const top = `${files.name}-${files.version}/`;
		const outside = [...zip.entries.keys()].find((name) => !name.startsWith(top));
		if (outside !== undefined) {
			throw new PackageError(`${label} holds ${outside} outside its one top folder ${top}`);
		}

		const entry = zip.entries.get(`${top}manifest.yml`);
		if (!entry) {
			throw new PackageError(`${label} has no ${top}manifest.yml`);
		}

		let manifest: unknown;
		try {
			manifest = YAML.parse((await readEntry(zip, entry, 1024 * 1024)).toString('utf8'));
		} catch (error) {
			throw new PackageError(`${label}: ${top}manifest.yml is not YAML: ${firstLine(error)}`, {
				cause: error,
			});
		}

		if (typeof manifest !== 'object' || manifest === null) {
			throw new PackageError(`${label}: ${top}manifest.yml is not a map`);
		}

		for (const field of ['name', 'version'] as const) {
			const value = String(lookup(manifest, field));
			if (value !== files[field]) {
				throw new PackageError(`${label}: manifest.yml names ${field} ${value}, not ${files[field]}`);
			}
		}

		return manifest as Json;
	} finally {
		zip.close();
	}
}

/** JSON with object keys sorted, so that two encoders' key orders compare equal. */
function canonical(value: unknown): string {
	return JSON.stringify(value, (_key, item: unknown) =>
		typeof item === 'object' && item !== null && !Array.isArray(item)
			? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
			: item,
	);
}

/**
The paths a client follows from the info (Kibana downloads `<registry><download>` and
`<registry><signature_path>`) must be this version's own, root-relative: otherwise a
checked zip would be served under an info that sends clients to other bytes.
*/
function checkPaths(files: PackageFiles, info: Json, label: string): void {
	const zip = `/epr/${files.name}/${files.name}-${files.version}.zip`;
	const expected: Record<string, string> = {
		download: zip,
		signature_path: `${zip}.sig`,
		path: `/package/${files.name}/${files.version}`,
	};
	for (const [field, value] of Object.entries(expected)) {
		if (info[field] !== undefined && info[field] !== value) {
			throw new PackageError(
				`package info of ${label} says ${field} ${JSON.stringify(info[field])}, not this version's ${value}`,
			);
		}
	}
}

/**
The search entry is a subset of the package info (the registry writes both from one
package): every field it has must equal the info's, except the policy templates and
data streams, which the entry abbreviates (their names must still agree).
*/
function checkSearch(search: Readonly<Record<string, unknown>>, info: Json, label: string): void {
	for (const [field, value] of Object.entries(search)) {
		if (field === 'policy_templates' || field === 'data_streams') {
			const names = (items: unknown) =>
				canonical(
					Array.isArray(items) ? items.map((item) => (item as Json)?.name ?? (item as Json)?.dataset) : [],
				);
			if (names(value) !== names(info[field])) {
				throw new PackageError(`the search entry of ${label} lists other ${field} than its package info`);
			}
		} else if (canonical(value) !== canonical(info[field])) {
			throw new PackageError(
				`the search entry of ${label} says ${field} ${JSON.stringify(value)?.slice(0, 80)}, its package info ${JSON.stringify(info[field])?.slice(0, 80)}`,
			);
		}
	}
}

/**
Check a search entry against a version's stored package info (bytes), as a refreshed
entry must be before it replaces the one the mirror serves. Throws PackageError.
*/
export function checkSearchEntry(
	name: string,
	version: string,
	search: Readonly<Record<string, unknown>>,
	info: Uint8Array,
): void {
	const label = `${name}-${version}.zip`;
	let parsed: unknown;
	try {
		parsed = JSON.parse(Buffer.from(info).toString('utf8'));
	} catch (error) {
		throw new PackageError(`package info of ${label} is not JSON: ${firstLine(error)}`, {cause: error});
	}

	checkSearch(search, (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Json, label);
}

/** Check the package info against the manifest. */
function checkInfo(files: PackageFiles, manifest: Json, label: string): Json {
	let info: unknown;
	try {
		info = JSON.parse(Buffer.from(files.info).toString('utf8'));
	} catch (error) {
		throw new PackageError(`package info of ${label} is not JSON: ${(error as Error).message}`, {
			cause: error,
		});
	}

	if (typeof info !== 'object' || info === null || Array.isArray(info)) {
		throw new PackageError(`package info of ${label} is not an object`);
	}

	for (const [field, fallback] of agreeing) {
		const said = lookup(info, field) ?? fallback;
		const meant = lookup(manifest, field) ?? fallback;
		if (said !== undefined && meant !== undefined && String(said) !== String(meant)) {
			throw new PackageError(
				`package info of ${label} says ${field} ${JSON.stringify(said)}, its manifest.yml ${JSON.stringify(meant)}`,
			);
		}
	}

	if (typeof (info as Json).format_version !== 'string') {
		throw new PackageError(`package info of ${label} has no format_version`);
	}

	return info as Json;
}

/**
Verify one package version. Throws SignatureError (ERR_SIGNATURE) or PackageError
(ERR_PACKAGE) with one line saying what is wrong; resolves with its facts.
*/
export async function verifyPackage(
	files: PackageFiles,
	trusted: TrustedKeys,
): Promise<VerifiedPackageFacts> {
	const label = `${files.name}-${files.version}.zip`;
	const prepared = await prepareSignature(files.signature, label, trusted, `${label}.sig`);
	const digests = files.digests ?? (await hashSource(files.zipFile, prepared));
	await checkSignature(prepared, digests, files.zipFile, trusted);
	const manifest = await readManifest(files, label);
	const info = checkInfo(files, manifest, label);
	checkPaths(files, info, label);
	if (files.search) {
		checkSearch(files.search, info, label);
	}

	return {sha512: digests.sha512, formatVersion: String(info.format_version), info};
}
