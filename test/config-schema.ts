import {execFile} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {Ajv2020} from 'ajv/dist/2020.js';
import test from 'ava';
import YAML from 'yaml';
import {fileOptions} from '../src/config/defs/file.js';
import {mirrorSchema} from '../src/config/schema.js';
import {cliCommand} from './helpers/run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

/** Every mirror.yml the repository shows: README's yaml mappings and heredocs, and the Kubernetes ConfigMaps. */
async function exampleConfigs(): Promise<Array<{where: string; config: unknown}>> {
	const examples: Array<{where: string; config: unknown}> = [];
	const readme = await read('README.md');
	for (const match of readme.matchAll(/```yaml\n([\s\S]*?)```|<<'YAML'\n([\s\S]*?)\nYAML\n/g)) {
		const config = YAML.parse(match[1] ?? match[2] ?? '') as unknown;
		// Prometheus alert rules are YAML lists, and Kubernetes resources (ECK's) have an apiVersion: not config files.
		const resource = typeof config === 'object' && config !== null && 'apiVersion' in config;
		if (!Array.isArray(config) && !resource) {
			examples.push({where: `README.md at offset ${match.index}`, config});
		}
	}

	for (const file of ['scripts/k8s/mirror.yaml', 'scripts/k8s/mirror-s3.yaml']) {
		for (const document of YAML.parseAllDocuments(await read(file))) {
			const resource = document.toJS() as {kind?: string; data?: Record<string, string>};
			if (resource.kind === 'ConfigMap' && resource.data?.['mirror.yml']) {
				examples.push({where: file, config: YAML.parse(resource.data['mirror.yml'])});
			}
		}
	}

	return examples;
}

test('docs/mirror.schema.json is what `config schema` prints (regenerate: artifact-mirror config schema > docs/mirror.schema.json)', async (t) => {
	const committed = JSON.parse(await read('docs/mirror.schema.json')) as unknown;
	t.deepEqual(committed, mirrorSchema());

	// Pretty-printed, so not through runCli, which reads every line starting with { as JSON.
	const [node = '', ...args] = cliCommand;
	const printed = await promisify(execFile)(node, [...args, 'config', 'schema'], {cwd: root});
	t.deepEqual(JSON.parse(printed.stdout), mirrorSchema());
});

test('the schema is valid draft 2020-12 and every example mirror.yml in the repository satisfies it', async (t) => {
	const validate = new Ajv2020({strict: true, allErrors: true}).compile(mirrorSchema());
	const examples = await exampleConfigs();
	t.true(examples.length >= 4, `found ${examples.length} examples`);
	for (const {where, config} of examples) {
		t.true(validate(config), `${where}: ${JSON.stringify(validate.errors)}`);
	}
});

test('the schema rejects what the loader rejects: unknown keys, bad types, values out of range', (t) => {
	const validate = new Ajv2020({strict: true}).compile(mirrorSchema());
	t.true(validate({versions: 'latest', concurrency: 6, fips: true, 'trusted-keys': ['key.asc']}));
	t.true(validate({'max-file-size': '700M', 'log-level': 'warn', 'metrics-address': '127.0.0.1:9464'}));
	t.false(validate({platfroms: ['linux-x86_64']}), 'a typo of a key');
	t.false(validate({concurrency: 0}), 'below the minimum');
	t.false(validate({platforms: ['linux-amd64']}), 'an unknown platform');
	t.false(validate({'log-format': 'xml'}), 'not a choice');
	t.false(validate({upstream: 'ftp://x'}), 'not http(s)');
	t.false(validate({out: 'bundle.tar'}), 'a flag-only option is no key');
});

test('the schema says each key with its default, its environment variables and its help', (t) => {
	const properties = (mirrorSchema() as {properties: Record<string, Record<string, unknown>>}).properties;
	t.like(properties.concurrency, {type: 'integer', minimum: 1, maximum: 64, default: 4});
	t.like(properties.dir, {default: './artifacts'});
	t.like(properties['access-log'], {default: true});
	t.regex(String(properties.port?.description), /^port to listen on .*env MIRROR_PORT, PORT/);
	t.like(properties['log-level'], {enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']});
});

test('every default is a value its own parser takes and the schema accepts', (t) => {
	const validate = new Ajv2020({strict: true}).compile(mirrorSchema());
	for (const option of fileOptions) {
		if (option.default === undefined) {
			continue;
		}

		t.notThrows(() => option.parse(option.default, {label: 'default', baseDir: root}), option.name);
		t.true(validate({[option.name]: option.default}), `${option.name}: ${JSON.stringify(validate.errors)}`);
	}
});
