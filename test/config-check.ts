import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {runCli} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';

type Report = {
	command: string;
	configFile: string | null;
	options: Array<{name: string; value: unknown; source: string; from: string}>;
	environment: Array<{name: string; value: unknown; source: string; from: string}>;
};

function parseReport(stdout: string): Report {
	return JSON.parse(stdout) as Report;
}

const byName = (report: Report, name: string) => report.options.find((option) => option.name === name);

test('config check sync: a good config prints every option with its value and where it came from', async (t) => {
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'mirror.yml'), 'versions: [latest, 9.1.x]\nport: 9000\nconcurrency: 2\n');
	const result = await runCli(['config', 'check', 'sync', '--platforms', 'linux-x86_64'], {
		cwd,
		env: {MIRROR_RETRIES: '3'},
	});
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, '');
	const lines = result.stdout.trimEnd().split('\n');
	t.is(lines[0], `sync: config OK (config file: ${path.join(cwd, 'mirror.yml')})`);
	const line = (name: string) => lines.find((text) => text.startsWith(`  ${name} `))?.replace(/\s+/g, ' ');
	t.is(line('versions'), ` versions latest, 9.1.x (file ${path.join(cwd, 'mirror.yml')}: versions)`);
	t.is(line('platforms'), ' platforms linux-x86_64 (flag --platforms)');
	t.is(line('retries'), ' retries 3 (env MIRROR_RETRIES)');
	t.is(line('concurrency'), ` concurrency 2 (file ${path.join(cwd, 'mirror.yml')}: concurrency)`);
	t.is(line('timeout'), ' timeout 30 (default)');
	t.is(line('dir'), ` dir ${path.join(cwd, 'artifacts')} (default)`);
	t.is(line('ca-file'), ' ca-file none (default)');
	t.is(line('s3-region'), ' s3-region - (unused)');
	// Every sync option but --config (the header) and --json (check's own output) has its line.
	t.is(lines.length, 1 + 30);
});

test('config check --json: origins of every kind (flag, env, file:key, default, unused)', async (t) => {
	const cwd = await tempDir(t);
	const file = path.join(cwd, 'conf', 'serve.yml');
	await mkdir(path.dirname(file));
	await writeFile(file, 'dir: ../data\nlog-level: warn\npublic-url: https://mirror.example.internal/\n');
	const result = await runCli(['config', 'check', 'serve', '--config', file, '--port', '9000', '--json'], {
		cwd,
		env: {MIRROR_PORT: '7000', PORT: '6000', MIRROR_TRUST_PROXY: 'yes'},
	});
	t.is(result.code, 0, result.stderr);
	const report = parseReport(result.stdout);
	t.is(report.command, 'serve');
	t.is(report.configFile, file);
	t.deepEqual(byName(report, 'port'), {name: 'port', value: 9000, source: 'flag', from: '--port'});
	t.deepEqual(byName(report, 'trust-proxy'), {
		name: 'trust-proxy',
		value: true,
		source: 'env',
		from: 'MIRROR_TRUST_PROXY',
	});
	t.deepEqual(byName(report, 'dir'), {
		name: 'dir',
		value: path.join(cwd, 'data'),
		source: 'file',
		from: `${file}: dir`,
	});
	t.deepEqual(byName(report, 'public-url'), {
		name: 'public-url',
		value: 'https://mirror.example.internal',
		source: 'file',
		from: `${file}: public-url`,
	});
	t.deepEqual(byName(report, 'drain-timeout'), {
		name: 'drain-timeout',
		value: 30,
		source: 'default',
		from: '30',
	});
	t.deepEqual(byName(report, 'tls-cert'), {
		name: 'tls-cert',
		value: null,
		source: 'default',
		from: 'plain HTTP',
	});
	t.is(byName(report, 's3-endpoint')?.source, 'unused');
	t.false(report.options.some((option) => option.name === 'config'));
});

test('config check: a bad value exits 2 with the one line the command itself prints, naming its source', async (t) => {
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'mirror.yml'), 'versions: latest\nconcurrency: 0\n');
	const cases: Array<{args: string[]; env?: Record<string, string>; line: string}> = [
		{
			args: ['sync'],
			line: 'error: invalid mirror.yml: concurrency "0": expected a whole number from 1 to 64\n',
		},
		{
			args: ['serve'],
			env: {MIRROR_PORT: 'http'},
			line: 'error: invalid MIRROR_PORT "http": expected a whole number from 0 to 65535\n',
		},
		{
			args: ['prune', '--keep-latest', 'two'],
			line: 'error: invalid --keep-latest "two": expected a whole number from 1 to 1000\n',
		},
		{args: ['export'], line: 'error: no --out given: a bundle file name, or - for stdout\n'},
	];
	for (const {args, env, line} of cases) {
		const checked = await runCli(['config', 'check', ...args], {cwd, env});
		t.is(checked.code, 2, args.join(' '));
		t.is(checked.stderr, line, args.join(' '));
		t.is(checked.stdout, '');
		// The command itself says the same, in the same words.
		const command = await runCli(args, {cwd, env});
		t.is(command.code, 2, args.join(' '));
		t.is(command.stderr, line, args.join(' '));
	}

	const unknown = await runCli(['config', 'check', 'snyc'], {cwd});
	t.is(unknown.code, 2);
	t.is(
		unknown.stderr,
		'error: unknown command "snyc" for config check: sync, serve, export, import, verify, prune, package-paths\n',
	);
	const missing = await runCli(['config', 'check'], {cwd});
	t.is(missing.code, 2);
	t.is(
		missing.stderr,
		'error: config check needs a command: sync, serve, export, import, verify, prune, package-paths\n',
	);
});

test('config check redacts secrets: passwords in URLs, proxy credentials, AWS keys', async (t) => {
	const cwd = await tempDir(t);
	const env = {
		MIRROR_UPSTREAM: 'https://mirror-user:hunter2@upstream.example/',
		HTTPS_PROXY: 'http://proxy-user:pr0xy-pass@proxy.internal:3128',
		AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID',
		AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret',
	};
	for (const extra of [[], ['--json']]) {
		const result = await runCli(
			[
				'config',
				'check',
				'verify',
				'--store',
				's3://mirror-bucket/team',
				'--s3-endpoint',
				'http://rgw:7480',
				...extra,
			],
			{cwd, env},
		);
		t.is(result.code, 0, result.stderr);
		for (const secret of [
			'hunter2',
			'mirror-user',
			'pr0xy-pass',
			'proxy-user',
			'AKIAEXAMPLEKEYID',
			'wJalrXUtnFEMI',
		]) {
			t.false(result.stdout.includes(secret), `${secret} in ${extra.join(' ') || 'text'} output`);
		}

		t.true(result.stdout.includes('https://***@upstream.example'));
		t.true(result.stdout.includes('http://***@proxy.internal:3128'));
		t.true(result.stdout.includes('s3://mirror-bucket/team/'));
	}

	const report = parseReport(
		(await runCli(['config', 'check', 'verify', '--store', 's3://mirror-bucket/team', '--json'], {cwd, env}))
			.stdout,
	);
	t.deepEqual(
		report.environment.map(({name, value}) => [name, value]),
		[
			['AWS_ACCESS_KEY_ID', '***'],
			['AWS_SECRET_ACCESS_KEY', '***'],
			['HTTPS_PROXY', 'http://***@proxy.internal:3128'],
		],
	);
});

test('config schema and config check are listed in help; config alone is a usage error', async (t) => {
	const top = await runCli(['--help']);
	t.regex(top.stdout, /config \[subcommand\]\s+Print the JSON Schema of mirror.yml/);
	const config = await runCli(['config', '--help']);
	t.regex(config.stdout, /schema\s+Print the JSON Schema/);
	t.regex(config.stdout, /check \[command\]\s+Load a command.s config/);
	const help = await runCli(['config', 'check', 'sync', '--help']);
	t.is(help.code, 0);
	t.regex(help.stdout, /--versions <list>/);
	t.regex(help.stdout, /--json\s+print the report as one JSON object/);
	const bare = await runCli(['config']);
	t.is(bare.code, 2);
	t.is(bare.stderr, 'error: config needs a subcommand: schema or check\n');
});
