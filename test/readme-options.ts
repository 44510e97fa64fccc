import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {type AnyOption, commonOptions, defaultWords, serveOptions, syncOptions} from '../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Row = {flag: string; env: string[]; key: string; default: string};

/** The rows of the options table that follows `heading` in the README. */
function optionsTable(readme: string, heading: string): Row[] {
	const start = readme.indexOf(`\n${heading}\n`);
	const lines = readme.slice(start).split('\n');
	const first = lines.findIndex((line) => line.startsWith('| flag |'));
	const rows: Row[] = [];
	for (const line of lines.slice(first + 2)) {
		if (!line.startsWith('|')) {
			break;
		}

		// Cells split on | that is not escaped (`--store PATH\|s3://...`).
		const [flag = '', env = '', key = '', value = ''] = line.split(/(?<!\\)\|/).slice(1, -1);
		rows.push({
			flag: /--([a-z0-9-]+)/.exec(flag)?.[1] ?? flag,
			env: [...env.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1] ?? ''),
			key: key.replaceAll('`', '').trim(),
			default: value.replaceAll('`', '').trim(),
		});
	}

	return rows;
}

/** A README default agrees with the definition when it says the same, optionally followed by more (`; ...` or ` (...)`). */
function agrees(readmeDefault: string, option: AnyOption): boolean {
	const words = defaultWords(option);
	if (readmeDefault === words || (readmeDefault === '' && words === 'none')) {
		return true;
	}

	return readmeDefault.startsWith(`${words}; `) || readmeDefault.startsWith(`${words} (`);
}

function checkTable(
	t: import('ava').ExecutionContext,
	rows: Row[],
	options: readonly AnyOption[],
	table: string,
) {
	for (const row of rows) {
		const option = options.find((candidate) => candidate.name === row.flag);
		if (!option) {
			t.fail(`${table}: --${row.flag} is no option of the command`);
			continue;
		}

		t.true(
			agrees(row.default, option),
			`${table}: --${row.flag} default "${row.default}" vs "${defaultWords(option)}"`,
		);
		t.deepEqual(row.env, option.flagOnly ? [] : [...(option.env ?? [])], `${table}: --${row.flag} env`);
		const keys = option.flagOnly ? [''] : [option.name, ...(option.fileAliases ?? [])];
		t.true(keys.includes(row.key), `${table}: --${row.flag} config key "${row.key}"`);
	}
}

test('README option tables agree with the definitions: flag, env, config key and default', async (t) => {
	const readme = await readFile(path.join(root, 'README.md'), 'utf8');
	const sync = optionsTable(readme, '### Options');
	checkTable(t, sync, syncOptions, 'sync options');
	t.deepEqual(
		sync.map((row) => row.flag),
		syncOptions.map((option) => option.name),
		'the sync table lists every sync option, in help order',
	);

	const serve = optionsTable(readme, '### Serve options');
	checkTable(t, serve, serveOptions, 'serve options');
	// The S3 connection options are told once, in the sync table (the --store row says so).
	const s3 = new Set<AnyOption>(commonOptions.filter((option) => option.name.startsWith('s3-')));
	t.deepEqual(
		serve.map((row) => row.flag).sort(),
		serveOptions
			.filter((option) => !s3.has(option))
			.map((option) => option.name)
			.sort(),
		'the serve table lists every serve option',
	);
});

test('a README default that disagrees with the definition is caught', (t) => {
	const concurrency = syncOptions.find((option) => option.name === 'concurrency');
	if (!concurrency) {
		t.fail();
		return;
	}

	t.true(agrees('4', concurrency));
	t.false(agrees('8', concurrency));
	t.false(agrees('40', concurrency));
});
