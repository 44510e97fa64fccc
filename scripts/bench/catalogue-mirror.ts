/**
The synthetic mirror of benchmark 9: a manifest of `count` artifacts (2 products ×
5 platforms × count/10 versions), 5,000 package versions with search entries and
500 image tags with their small blobs on disk. Only one artifact is on disk: the
pages and answers read the manifest, not the files.
*/
import {createHash} from 'node:crypto';
import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';

const platforms = [
	['linux-x86_64', 'linux-x86_64.tar.gz'],
	['linux-arm64', 'linux-arm64.tar.gz'],
	['darwin-x86_64', 'darwin-x86_64.tar.gz'],
	['darwin-aarch64', 'darwin-aarch64.tar.gz'],
	['windows-x86_64', 'windows-x86_64.zip'],
] as const;
const products = [
	['elastic-agent', 'beats/elastic-agent'],
	['fleet-server', 'fleet-server'],
] as const;

/** `count` versions, 8.0.0 upwards. */
function versions(count: number): string[] {
	const list: string[] = [];
	for (let index = 0; list.length < count; index++) {
		list.push(`${8 + Math.floor(index / 5000)}.${Math.floor(index / 50) % 100}.${index % 50}`);
	}

	return list;
}

/** Package versions the synthetic mirror lists (issue 19: 5,000), as 250 packages × 20 versions. */
export const packageCount = 250;
export const packageVersions = 20;
/** Image tags it lists (issue 19: 500), as 5 repositories × 100 tags, each with small blobs on disk. */
export const imageRepositories = 5;
export const imageTags = 100;

/** 5,000 package versions with search entries like upstream's, Kibana conditions varying. */
function syntheticPackages(publishedAt: string): Record<string, unknown> {
	const packages: Record<string, unknown> = {};
	const sha512 = createHash('sha512').update('package').digest('hex');
	for (let index = 0; index < packageCount; index++) {
		const name = `package_${index}`;
		for (let minor = 0; minor < packageVersions; minor++) {
			const version = `1.${minor}.0`;
			const zip = `epr/${name}/${name}-${version}.zip`;
			const base = `/package/${name}/${version}`;
			packages[zip] = {
				path: zip,
				name,
				version,
				size: 204800,
				sha512,
				signature: {size: 833, sha512},
				info: {size: 4096, sha512},
				formatVersion: '3.0.0',
				search: {
					name,
					title: `Package ${index}`,
					version,
					release: 'ga',
					description: `Collect logs and metrics from service ${index}.`,
					type: 'integration',
					download: `/epr/${name}/${name}-${version}.zip`,
					path: base,
					icons: [
						{
							src: '/img/icon.svg',
							path: `${base}/img/icon.svg`,
							title: 'logo',
							size: '32x32',
							type: 'image/svg+xml',
						},
					],
					policy_templates: [{name, title: `Package ${index}`, description: 'Logs and metrics'}],
					conditions: {kibana: {version: `^8.${minor}.0 || ^9.0.0`}, elastic: {subscription: 'basic'}},
					owner: {type: 'elastic', github: 'elastic/integrations'},
					categories: ['observability'],
					signature_path: `/epr/${name}/${name}-${version}.zip.sig`,
				},
				publishedAt,
			};
		}
	}

	return packages;
}

/** 500 image tags, each an image manifest with a config and a layer, all blobs written under `oci/`. */
async function syntheticImages(dir: string, publishedAt: string): Promise<Record<string, unknown>> {
	const blobs: Record<string, unknown> = {};
	const repositories: Record<string, Record<string, unknown>> = {};
	const blobDir = path.join(dir, 'oci', 'blobs', 'sha256');
	await mkdir(blobDir, {recursive: true});
	const blob = async (body: Buffer, mediaType?: string, refs?: string[]) => {
		const hex = createHash('sha256').update(body).digest('hex');
		await writeFile(path.join(blobDir, hex), body);
		const digest = `sha256:${hex}`;
		blobs[digest] = {
			digest,
			size: body.length,
			mediaType,
			refs,
			platform: mediaType ? 'linux/amd64' : undefined,
			publishedAt,
		};
		return {digest, size: body.length};
	};
	for (let repository = 0; repository < imageRepositories; repository++) {
		const name = `elastic-agent/image-${repository}`;
		const tags: Record<string, unknown> = {};
		for (let tag = 0; tag < imageTags; tag++) {
			const config = await blob(Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', tag})));
			const layer = await blob(Buffer.from(`layer ${name} ${tag}`));
			const mediaType = 'application/vnd.oci.image.manifest.v1+json';
			const manifest = await blob(
				Buffer.from(
					JSON.stringify({
						schemaVersion: 2,
						mediaType,
						config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...config},
						layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer}],
					}),
				),
				mediaType,
				[config.digest, layer.digest],
			);
			tags[`9.${Math.floor(tag / 10)}.${tag % 10}`] = {
				...manifest,
				mediaType,
				platforms: ['linux/amd64'],
				publishedAt,
				refreshedAt: publishedAt,
			};
		}

		repositories[name] = tags;
	}

	return {repositories, blobs};
}

/** A mirror whose manifest lists `count` artifacts; one of them (returned) is on disk. */
export async function syntheticMirror(dir: string, count: number): Promise<string> {
	const perVersion = products.length * platforms.length;
	const files: Record<string, unknown> = {};
	const publishedAt = new Date('2026-01-15T10:00:00Z').toISOString();
	const sha512 = createHash('sha512').update('synthetic').digest('hex');
	for (const version of versions(Math.ceil(count / perVersion))) {
		for (const [product, folder] of products) {
			for (const [platform, suffix] of platforms) {
				const entryPath = `downloads/${folder}/${product}-${version}-${suffix}`;
				files[entryPath] = {
					path: entryPath,
					product,
					version,
					platform,
					fips: false,
					size: 1048576,
					sha512,
					publishedAt,
				};
			}
		}
	}

	const state = path.join(dir, '.mirror');
	await mkdir(state, {recursive: true});
	const packages = syntheticPackages(publishedAt);
	const images = await syntheticImages(dir, publishedAt);
	await writeFile(
		path.join(state, 'manifest.json'),
		JSON.stringify({schema: 1, files, keys: {}, packages, defend: {versions: {}, artifacts: {}}, images}),
	);
	const run = {
		startedAt: publishedAt,
		finishedAt: publishedAt,
		result: 'success',
		counts: {published: count, present: 0, notPublished: 0, failed: 0, bytes: count * 1048576},
	};
	await writeFile(
		path.join(state, 'status.json'),
		JSON.stringify({lastRun: run, lastSuccess: run, history: [run]}),
	);
	const download = 'downloads/beats/elastic-agent/elastic-agent-8.0.0-linux-x86_64.tar.gz';
	await mkdir(path.join(dir, path.dirname(download)), {recursive: true});
	await writeFile(path.join(dir, download), Buffer.alloc(1048576, 7));
	return download;
}
