/**
The benchmark suite: this project beside nginx and the curl + sha512sum + gpgv
pipeline, on the same files in the same run. `npm run bench` builds first.

  npm run bench -- [--only 1,2,4] [--repeat 3] [--seconds 10] [--work DIR]
                   [--slow-clients 1000] [--slow-seconds 15] [--out BENCHMARKS.md]
                   [--catalogue-sizes 10000,100000] [--growth-sizes 1000,10000,100000]

Installs nothing: it names the tools it lacks and stops. On Debian:
  apt-get install nginx-light wrk curl gpgv
8 (the S3 mode) also needs an S3 server: `bash scripts/s3/start-rgw.sh`; without
one it is skipped with the reason. 9 (a large catalogue) and 10 (integration packages
and Defend protections, from in-process stand-ins for their upstreams) need none of
the tools: `--only 9,10` runs without them. 13 (cost growth: sync, export, import at
1k, 10k and 100k small artifacts) needs nginx only.
*/
import {existsSync} from 'node:fs';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {largeCatalogue} from './catalogue-benches.js';
import {collectionBenches} from './collection-benches.js';
import {downloadReference, ensureSha256Fixture} from './download-benches.js';
import {ensureFixtures} from './fixtures.js';
import {growthBenches} from './growth-benches.js';
import {freePort, missingTools, versionOf} from './lib.js';
import {startNginx} from './nginx.js';
import {type Result, resultsMarkdown} from './report.js';
import {s3Benches, s3Problem} from './s3-benches.js';
import {serveLarge, serveSidecars, serveSlowClients, startupAndBrowse} from './serve-benches.js';
import {addLarge, pipelineScript, syncLarge, syncLargeSha256, syncMany, syncNoop} from './sync-benches.js';
import {serveWave} from './wave-benches.js';

const root = path.resolve(import.meta.dirname, '../..');
const {values} = parseArgs({
	options: {
		only: {type: 'string', default: '1,2,3,4,4b,5,6,7,8,9,10,11,12,13'},
		repeat: {type: 'string', default: '3'},
		seconds: {type: 'string', default: '10'},
		work: {type: 'string', default: path.join(os.tmpdir(), 'artifact-mirror-bench')},
		'slow-clients': {type: 'string', default: '1000'},
		'slow-seconds': {type: 'string', default: '15'},
		out: {type: 'string'},
		'catalogue-sizes': {type: 'string', default: '10000,100000'},
		'growth-sizes': {type: 'string', default: '1000,10000,100000'},
	},
});
const allIds = 14;

const log = (line: string) => process.stderr.write(`${line}\n`);
const only = new Set(values.only.split(','));
// 9 and 10 build their own mirrors and upstreams and need no tool or fixture.
const needsFixtures = [...only].some((id) => !['9', '10', '13'].includes(id));
// 13 (cost growth) needs only nginx, its upstream.
const missing = needsFixtures
	? missingTools()
	: missingTools().filter((tool) => only.has('13') && tool.name === 'nginx');
if (missing.length > 0) {
	for (const tool of missing) {
		log(`missing: ${tool.name} (${tool.why}); Debian package ${tool.debian}`);
	}

	log(`install them first, e.g. apt-get install ${missing.map((tool) => tool.debian).join(' ')}`);
	process.exit(2);
}

const cli = path.join(root, 'dist/cli/index.js');
if (!existsSync(cli)) {
	log('dist/cli/index.js is missing: run `npm run build` (npm run bench does it for you)');
	process.exit(2);
}

const repeat = Number(values.repeat);
const workDir = values.work;
const runsDir = path.join(workDir, 'runs');
const mirrorDir = path.join(workDir, 'served-mirror');
await mkdir(runsDir, {recursive: true});

const commands: string[] = [];
const results: Result[] = [];
if (only.has('9')) {
	const sizes = values['catalogue-sizes'].split(',').map(Number);
	results.push(
		...(await largeCatalogue({cli, workDir, seconds: Number(values.seconds), log, commands}, sizes)),
	);
}

if (only.has('10')) {
	results.push(...(await collectionBenches({cli, workDir, repeat, log, commands})));
}

if (only.has('13')) {
	const sizes = values['growth-sizes'].split(',').map(Number);
	results.push(...(await growthBenches({cli, workDir, log, commands}, sizes)));
}

if (!needsFixtures) {
	process.stdout.write(`${resultsMarkdown(results)}\n`);
	process.exit(0);
}

const fixtures = await ensureFixtures(workDir, log);
const upstream = await startNginx({
	root: fixtures.upstreamDir,
	port: await freePort(),
	workDir,
	accessLog: true,
});
const syncContext = {fixtures, upstream, cli, runsDir, repeat, log, commands};
const s3Skipped = only.has('8') ? await s3Problem() : undefined;
if (s3Skipped) {
	log(`skipping 8 (S3 mode): ${s3Skipped}`);
}

try {
	if (only.has('4')) {
		results.push(await syncLarge(syncContext));
	}

	if (only.has('4b')) {
		results.push(await syncLargeSha256(syncContext, await ensureSha256Fixture(syncContext, workDir)));
	}

	if (only.has('11')) {
		results.push(await downloadReference(syncContext));
	}

	if (only.has('5')) {
		results.push(await syncMany(syncContext));
	}

	const needMirror = ['1', '2', '3', '6', '7', '12'].some((id) => only.has(id));
	if (needMirror) {
		const noop = await syncNoop(syncContext, mirrorDir);
		if (only.has('6')) {
			results.push(noop);
		}

		await addLarge(syncContext, mirrorDir);
	}

	if (only.has('8') && !s3Skipped) {
		results.push(
			...(await s3Benches({
				...syncContext,
				workDir,
				seconds: Number(values.seconds),
				slowClients: Number(values['slow-clients']),
				slowSeconds: Number(values['slow-seconds']),
			})),
		);
	}
} finally {
	await upstream.close();
}

const serveContext = {
	fixtures,
	cli,
	mirrorDir,
	workDir,
	repeat,
	seconds: Number(values.seconds),
	slowClients: Number(values['slow-clients']),
	slowSeconds: Number(values['slow-seconds']),
	log,
	commands,
};
if (only.has('1')) {
	results.push(...(await serveLarge(serveContext)));
}

if (only.has('2')) {
	results.push(await serveSidecars(serveContext));
	results.push(await serveSidecars(serveContext, {id: '2b', extra: ['--workers', '1']}));
}

if (only.has('3')) {
	results.push(await serveSlowClients(serveContext));
}

if (only.has('7')) {
	results.push(...(await startupAndBrowse(serveContext)));
}

if (only.has('12')) {
	results.push(await serveWave(serveContext));
}

results.sort((a, b) => a.id.localeCompare(b.id));
const table = resultsMarkdown(results);
process.stdout.write(`${table}\n`);

const out = values.out ?? (only.size === allIds ? path.join(root, 'BENCHMARKS.md') : undefined);
if (out) {
	// Hand-written analysis below "## Notes" survives a re-run.
	const previous = await readFile(out, 'utf8').catch(() => '');
	const notesAt = previous.indexOf('\n## Notes');
	const notes = notesAt >= 0 ? previous.slice(notesAt + 1) : '## Notes\n\n(none yet)\n';
	const machine = [
		`- CPU: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
		`- Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
		`- OS: ${os.type()} ${os.release()}`,
		`- Node.js ${process.version}; ${versionOf('nginx', ['-v'])}; ${versionOf('wrk', ['-v'])}`,
		`- ${versionOf('curl', ['--version'])}`,
		`- ${versionOf('gpgv', ['--version'])}; ${versionOf('sha512sum', ['--version'])}`,
	];
	const document = [
		'# Benchmarks',
		'',
		"This project beside what Elastic's air-gap docs suggest (nginx serving a folder filled by a",
		'script of `curl`, `sha512sum` and `gpgv`), on the same files in the same run. Regenerate with',
		'`npm run bench` (it names any tool it lacks: `apt-get install nginx-light wrk curl gpgv`).',
		'Both sides run on the same machine as the load generator, on loopback.',
		'',
		`Run of ${new Date().toISOString()}, ${repeat} repeats per figure (medians; sides alternate`,
		`which goes first), ${values.seconds} s per wrk run.`,
		'',
		'## Machine',
		'',
		...machine,
		'',
		'## Results',
		'',
		table,
		'',
		'## Commands',
		'',
		...commands.map((command) => `- ${command}`),
		'',
		'The pipeline, per artifact (`$1` upstream, `$2` output root, `$3` keyring, `$4` path):',
		'',
		'```sh',
		pipelineScript,
		'```',
		'',
		'nginx: `worker_processes auto`, `sendfile on`, `tcp_nopush on`, keep-alive, access log off',
		'when it is the server under test and on when it is the upstream (to count requests).',
		'',
		notes.trimEnd(),
		'',
	].join('\n');
	await writeFile(out, document);
	log(`wrote ${out}`);
}
