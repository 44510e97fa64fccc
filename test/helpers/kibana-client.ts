/**
What Kibana's Fleet does with a package registry (services/epm/registry/index.ts and
package_verification.ts, summarised in docs/package-registry.md), done against a
server: search with its constraints, find the newest version of a package, read its
info, download the zip from the info's `download` path, verify the detached
signature from `signature_path` with openpgp, and read the manifest inside.
Every step throws when the registry answers something Kibana would reject.
*/
import * as openpgp from 'openpgp';
import YAML from 'yaml';
import yauzl from 'yauzl';

/** The constraints Kibana adds to /search and /categories (spec range as its config.ts defaults). */
export function kibanaConstraints(kibanaVersion: string): string {
	return `kibana.version=${kibanaVersion.split('-')[0]}&spec.min=2.3&spec.max=3.5`;
}

async function get(base: string, path: string): Promise<Response> {
	const response = await fetch(`${base}${path}`, {headers: {'User-Agent': 'Kibana/9.1.0 node-fetch'}});
	if (!response.ok) {
		throw new Error(
			`${response.status} ${response.statusText} error response from package registry for ${path}`,
		);
	}

	return response;
}

async function getJson<T>(base: string, path: string): Promise<T> {
	return (await (await get(base, path)).json()) as T;
}

function entryOf(zip: Buffer, name: string): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		yauzl.fromBuffer(zip, {lazyEntries: true}, (error, file) => {
			if (error || !file) {
				reject(error ?? new Error('no zip'));
				return;
			}

			file.on('entry', (entry: yauzl.Entry) => {
				if (entry.fileName !== name) {
					file.readEntry();
					return;
				}

				file.openReadStream(entry, (streamError, stream) => {
					if (streamError || !stream) {
						reject(streamError ?? new Error('no stream'));
						return;
					}

					const chunks: Buffer[] = [];
					stream.on('data', (chunk: Buffer) => chunks.push(chunk));
					stream.on('end', () => {
						file.close();
						resolve(Buffer.concat(chunks));
					});
					stream.on('error', reject);
				});
			});
			file.on('end', () => reject(new Error(`${name} is not in the zip`)));
			file.on('error', reject);
			file.readEntry();
		});
	});
}

/** What an install of one package saw. */
export type KibanaInstall = {
	/** The names /search listed for this Kibana. */
	readonly listed: readonly string[];
	readonly version: string;
	readonly info: Record<string, unknown>;
	readonly zip: Buffer;
	readonly manifest: Record<string, unknown>;
	readonly readme: string;
	readonly categories: ReadonlyArray<{id: string; count: number}>;
};

/** Install `name` the way Kibana `kibanaVersion` would from the registry at `base`, trusting `armoredKey`. */
export async function installLikeKibana(
	base: string,
	name: string,
	kibanaVersion: string,
	armoredKey: string,
): Promise<KibanaInstall> {
	const constraints = kibanaConstraints(kibanaVersion);
	const list = await getJson<Array<{name: string}>>(base, `/search?${constraints}`);
	const categories = await getJson<Array<{id: string; count: number}>>(
		base,
		`/categories?include_policy_templates=true&${constraints}`,
	);
	const [latest] = await getJson<Array<{version: string}>>(
		base,
		`/search?package=${name}&prerelease=false&${constraints}`,
	);
	if (!latest) {
		throw new Error(`${name} not found for Kibana ${kibanaVersion}`);
	}

	const info = await getJson<Record<string, unknown>>(base, `/package/${name}/${latest.version}/`);
	const zip = Buffer.from(await (await get(base, String(info.download))).arrayBuffer());
	const armoredSignature = await (await get(base, String(info.signature_path))).text();
	const {signatures} = await openpgp.verify({
		message: await openpgp.createMessage({binary: zip}),
		signature: await openpgp.readSignature({armoredSignature}),
		verificationKeys: await openpgp.readKey({armoredKey}),
		format: 'binary',
	});
	await signatures[0]?.verified;
	const manifest = YAML.parse(
		(await entryOf(zip, `${name}-${latest.version}/manifest.yml`)).toString('utf8'),
	) as Record<string, unknown>;
	if (manifest.name !== name || manifest.version !== latest.version) {
		throw new Error(`the zip's manifest names ${String(manifest.name)} ${String(manifest.version)}`);
	}

	const readme = await (await get(base, `/package/${name}/${latest.version}/docs/README.md`)).text();
	return {
		listed: list.map((each) => each.name),
		version: latest.version,
		info,
		zip,
		manifest,
		readme,
		categories,
	};
}
