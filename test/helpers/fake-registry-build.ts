/**
Builds one package version the way Elastic publishes it: a zip with one top folder `<n>-<v>/`
(directory entries first, then files, in `filepath.Walk` order like package-registry
`archiver/archive.go`), a detached armored signature of the zip, and the JSON the registry derives
from the manifest (package-registry `packages/package.go`: `NewPackage`, `LoadAssets`, struct field
order of `Package`, `BasePackage`, `PolicyTemplate`, `BasePolicyTemplate`, `Image`, `Conditions`).
Over 300 lines because the manifest, the zip, the assets and the two JSON shapes are one
derivation from the same spec; split, each part would need the others' intermediate values.
*/
import semver from 'semver';
import YAML from 'yaml';
import yazl from 'yazl';
import {ingestionMethods, knownCategories} from './fake-registry-data.js';
import {parseConstraint} from './fake-registry-semver.js';
import type {TestKey} from './keys.js';

/** One package version to publish. */
export type FakePackageSpec = {
	name: string;
	version: string;
	title?: string;
	description?: string;
	/** Default integration. */
	type?: 'integration' | 'input' | 'content';
	/** conditions.kibana.version constraint (Masterminds syntax, e.g. "^8.13.0 || ^9.0.0"). */
	kibana?: string;
	/** conditions.agent.version. */
	agent?: string;
	/** conditions.elastic.capabilities. */
	capabilities?: string[];
	/** conditions.elastic.subscription (default basic). */
	subscription?: string;
	categories?: string[];
	/** Default '3.0.0'. */
	formatVersion?: string;
	/** Default derived like releaseForSemVerCompat: beta for a prerelease or 0.x, else ga. */
	release?: string;
	requires?: {input?: {package: string; version: string}[]; content?: {package: string; version: string}[]};
	/** Input packages get one template for the `logfile` input when none is given. */
	policyTemplates?: {
		name: string;
		title: string;
		description: string;
		categories?: string[];
		/** For input packages: the input and its data stream type. */
		input?: string;
		type?: string;
	}[];
	/** Extra files inside the zip, relative to the package folder. */
	files?: Record<string, string | Uint8Array>;
	/** Faults: the .sig signs other bytes; the zip's manifest names another version; the info JSON names another version. */
	badSignature?: boolean;
	manifestVersionMismatch?: boolean;
	infoMismatch?: boolean;
};

/** A published package version and everything the fake serves for it. */
export type FakePackage = {
	readonly spec: FakePackageSpec;
	readonly zip: Buffer;
	/** Armored detached signature served at `.zip.sig`. */
	readonly signature: string;
	/** The package info JSON as served at /package/n/v/. */
	readonly info: Record<string, unknown>;
	/** The BasePackage as /search answers it. */
	readonly searchEntry: Record<string, unknown>;
	/** 'epr/n/n-v.zip' (no leading slash). */
	readonly zipPath: string;
	/** The files inside the zip, by path relative to the package folder. */
	readonly files: ReadonlyMap<string, Buffer>;
};

/** When every file of the fake was last modified (zip entries, zips, signatures). */
export const fakeModified = new Date('2026-01-15T10:00:00Z');

/** Go's `json.Encoder` with `SetIndent("", "  ")` and `SetEscapeHTML(false)`: pretty, newline-terminated. */
export function goJson(value: unknown): string {
	return `${JSON.stringify(value, null, 2)
		.replace(/\u2028/g, '\\u2028')
		.replace(/\u2029/g, '\\u2029')}\n`;
}

/** Drop undefined members so the JSON has exactly the keys Go's `omitempty` would print, in this order. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

const nonEmpty = <T>(list: readonly T[] | undefined) => (list && list.length > 0 ? list : undefined);

/** The release the registry assigns when the manifest has none (`releaseForSemVerCompat`). */
export function defaultRelease(version: string): string {
	return semver.prerelease(version) || semver.major(version) < 1 ? 'beta' : 'ga';
}

function otherVersion(version: string): string {
	return semver.inc(version, 'patch') ?? '0.0.1';
}

type Template = NonNullable<FakePackageSpec['policyTemplates']>[number];

function templatesOf(spec: FakePackageSpec): Template[] {
	if (spec.policyTemplates) {
		return spec.policyTemplates;
	}
	return spec.type === 'input'
		? [
				{
					name: spec.name,
					title: titleOf(spec),
					description: `Collect logs with ${titleOf(spec)}`,
					input: 'logfile',
					type: 'logs',
				},
			]
		: [];
}

function titleOf(spec: FakePackageSpec): string {
	return (
		spec.title ??
		spec.name.replace(
			/(^|_)(\w)/g,
			(_all, gap: string, letter: string) => `${gap ? ' ' : ''}${letter.toUpperCase()}`,
		)
	);
}

function manifestOf(spec: FakePackageSpec, version: string): string {
	const templates = templatesOf(spec).map((t) =>
		compact({
			name: t.name,
			title: t.title,
			description: t.description,
			categories: t.categories,
			type: t.type,
			input: t.input,
			template_path: t.input ? 'input.yml.hbs' : undefined,
		}),
	);
	return YAML.stringify(
		compact({
			format_version: spec.formatVersion ?? '3.0.0',
			name: spec.name,
			title: titleOf(spec),
			version,
			release: spec.release,
			description: spec.description ?? `${titleOf(spec)} package for tests`,
			type: spec.type ?? 'integration',
			categories: spec.categories,
			conditions: compact({
				kibana: spec.kibana === undefined ? undefined : {version: spec.kibana},
				elastic: compact({subscription: spec.subscription ?? 'basic', capabilities: spec.capabilities}),
				agent: spec.agent === undefined ? undefined : {version: spec.agent},
			}),
			icons: [{src: '/img/icon.svg', title: `${titleOf(spec)} logo`, size: '32x32', type: 'image/svg+xml'}],
			policy_templates: nonEmpty(templates),
			requires: spec.requires,
			owner: {github: 'elastic/integrations', type: 'elastic'},
		}),
	);
}

/** The files of the package folder, manifest naming `manifestVersion`. */
function filesOf(spec: FakePackageSpec, manifestVersion: string): Map<string, Buffer> {
	const files = new Map<string, Buffer>([
		['manifest.yml', Buffer.from(manifestOf(spec, manifestVersion))],
		['docs/README.md', Buffer.from(`# ${titleOf(spec)}\n\nVersion ${spec.version} of ${spec.name}.\n`)],
		[
			'img/icon.svg',
			Buffer.from(
				`<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><title>${spec.name}</title><rect width="32" height="32"/></svg>\n`,
			),
		],
	]);
	if (templatesOf(spec).some((t) => t.input)) {
		files.set('agent/input/input.yml.hbs', Buffer.from('paths:\n{{#each paths}}\n  - {{this}}\n{{/each}}\n'));
	}
	for (const [name, content] of Object.entries(spec.files ?? {})) {
		files.set(name, Buffer.from(content));
	}
	return files;
}

/** Zip entry names (relative, directories ending in `/`) in `filepath.Walk` order: lexical per directory, depth first. */
function walkOrder(paths: readonly string[]): string[] {
	type Node = Map<string, Node | null>;
	const root: Node = new Map();
	for (const file of paths) {
		const parts = file.split('/');
		let node = root;
		parts.forEach((part, index) => {
			if (index === parts.length - 1) {
				node.set(part, null);
				return;
			}
			const next = node.get(part) ?? new Map();
			node.set(part, next);
			node = next;
		});
	}
	const out: string[] = [];
	const visit = (node: Node, prefix: string) => {
		for (const name of [...node.keys()].sort()) {
			const child = node.get(name);
			if (child) {
				out.push(`${prefix}${name}/`);
				visit(child, `${prefix}${name}/`);
			} else {
				out.push(`${prefix}${name}`);
			}
		}
	};
	visit(root, '');
	return out;
}

async function zipOf(
	folder: string,
	entries: readonly string[],
	files: ReadonlyMap<string, Buffer>,
): Promise<Buffer> {
	const zip = new yazl.ZipFile();
	zip.addEmptyDirectory(`${folder}/`, {mtime: fakeModified});
	for (const entry of entries) {
		const content = files.get(entry);
		if (content) {
			zip.addBuffer(content, `${folder}/${entry}`, {mtime: fakeModified});
		} else {
			zip.addEmptyDirectory(`${folder}/${entry}`, {mtime: fakeModified});
		}
	}
	zip.end();
	const chunks: Buffer[] = [];
	for await (const chunk of zip.outputStream) {
		chunks.push(Buffer.from(chunk as Buffer));
	}
	return Buffer.concat(chunks);
}

/**
`LoadAssets`: globs `*`, `*\/*`, ... over the zip entries, level by level, each level in zip
order, until a level matches nothing; directories are skipped.
*/
function assetsOf(entries: readonly string[], base: string): string[] {
	const assets: string[] = [];
	for (let depth = 1; ; depth++) {
		const level = entries.filter((entry) => entry.replace(/\/$/, '').split('/').length === depth);
		if (level.length === 0) {
			return assets;
		}
		assets.push(...level.filter((entry) => !entry.endsWith('/')).map((entry) => `${base}/${entry}`));
	}
}

/** Build, sign and describe one package version. Throws where the real registry would refuse to load it. */
export async function buildFakePackage(spec: FakePackageSpec, key: TestKey): Promise<FakePackage> {
	if (!semver.valid(spec.version) || !/^[a-z0-9_]+$/.test(spec.name)) {
		throw new Error(`fake registry: bad package ${spec.name}@${spec.version}`);
	}
	for (const constraint of [spec.kibana, spec.agent]) {
		if (constraint !== undefined) {
			parseConstraint(constraint);
		}
	}
	const {name, version} = spec;
	const files = filesOf(spec, spec.manifestVersionMismatch ? otherVersion(version) : version);
	const entries = walkOrder([...files.keys()]);
	const zip = await zipOf(`${name}-${version}`, entries, files);
	const signature = await key.sign(spec.badSignature ? Buffer.concat([zip, Buffer.from('tampered')]) : zip);
	const base = `/package/${name}/${version}`;
	const download = `/epr/${name}/${name}-${version}.zip`;
	const templates = templatesOf(spec);
	const subscription = spec.subscription ?? 'basic';
	const categories = (spec.categories ?? []).filter((category) => knownCategories.has(category));
	const baseFields = (infoVersion: string, baseTemplates: unknown) =>
		compact({
			name,
			title: titleOf(spec),
			version: infoVersion,
			release: spec.release ?? defaultRelease(version),
			description: spec.description ?? `${titleOf(spec)} package for tests`,
			type: spec.type ?? 'integration',
			download,
			path: base,
			icons: [
				{
					src: '/img/icon.svg',
					path: `${base}/img/icon.svg`,
					title: `${titleOf(spec)} logo`,
					size: '32x32',
					type: 'image/svg+xml',
				},
			],
			policy_templates: baseTemplates,
			conditions: compact({
				kibana: spec.kibana === undefined ? undefined : {version: spec.kibana},
				elastic: compact({subscription, capabilities: nonEmpty(spec.capabilities)}),
				agent: spec.agent === undefined ? undefined : {version: spec.agent},
			}),
			owner: {type: 'elastic', github: 'elastic/integrations'},
			categories: nonEmpty(categories),
			signature_path: `${download}.sig`,
			requires: spec.requires
				? compact({input: nonEmpty(spec.requires.input), content: nonEmpty(spec.requires.content)})
				: undefined,
		});
	const info = {
		...baseFields(spec.infoMismatch ? otherVersion(version) : version, undefined),
		format_version: spec.formatVersion ?? '3.0.0',
		readme: `${base}/docs/README.md`,
		license: subscription,
		assets: assetsOf(entries, base),
		policy_templates: nonEmpty(
			templates.map((t) =>
				compact({
					name: t.name,
					title: t.title,
					description: t.description,
					multiple: true,
					categories: nonEmpty(t.categories),
					type: t.type,
					input: t.input,
					ingestion_method: spec.type === 'input' && t.input ? ingestionMethods[t.input] : undefined,
					template_path: t.input ? 'input.yml.hbs' : undefined,
				}),
			),
		),
	};
	return {
		spec,
		zip,
		signature,
		info: compact(info),
		searchEntry: baseFields(version, nonEmpty(templates.map(baseTemplate))),
		zipPath: download.slice(1),
		files,
	};
}

/** A policy template as /search shows it (`BasePolicyTemplate`). */
export function baseTemplate(t: Template): Record<string, unknown> {
	return compact({
		name: t.name,
		title: t.title,
		description: t.description,
		categories: nonEmpty(t.categories),
	});
}
