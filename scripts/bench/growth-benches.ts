/**
Benchmark 13: how the cost of sync (first and no-op), export and import grows with
the number of artifacts (1,000, 10,000 and 100,000 by default). The upstream is
nginx serving a tree of small files (512 bytes each, all with the same body, so one
detached signature serves every `.asc`; each `.sha512` names its own file as the
agent requires): a first sync of 100,000 real downloads would take hours, while the
per-artifact work this measures (requests, hashing, signature checks, publishing,
manifest updates) is the same. Each command runs under `/usr/bin/time` for its
peak RSS and CPU.
*/
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import {type ArtifactRef, keyFiles, wantedArtifacts} from '../../src/agent/catalog.js';
import {freePort, timed} from './lib.js';
import {startNginx} from './nginx.js';
import {measure, type Result} from './report.js';

/** What benchmark 13 needs. */
export type GrowthBenchContext = {
	readonly cli: string;
	readonly workDir: string;
	readonly log: (line: string) => void;
	readonly commands: string[];
};

// 8 products × 10 platforms: 80 artifacts per version.
const products = [
	'elastic-agent',
	'apm-server',
	'filebeat',
	'metricbeat',
	'auditbeat',
	'heartbeat',
	'packetbeat',
	'osquerybeat',
];
const platforms = [
	'linux-x86_64',
	'linux-arm64',
	'darwin-x86_64',
	'darwin-aarch64',
	'windows-x86_64',
	'deb-amd64',
	'deb-arm64',
	'rpm-x86_64',
	'rpm-aarch64',
	'linux-x86',
];
const perVersion = products.length * platforms.length;

/** Release versions (no prerelease, so a no-op sync asks upstream nothing), 7.0.0 upwards. */
function versions(count: number): string[] {
	return Array.from({length: count}, (_, index) => `7.${Math.floor(index / 100)}.${index % 100}`);
}

function selection(count: number): {versions: string[]; refs: ArtifactRef[]} {
	const list = versions(Math.ceil(count / perVersion));
	return {versions: list, refs: wantedArtifacts({products, versions: list, platforms, fips: false})};
}

/** The upstream tree for `count` artifacts (a superset is reused); returns the key file. */
async function ensureUpstream(root: string, count: number, log: (line: string) => void): Promise<string> {
	const stamp = path.join(root, '.complete');
	const keyAsc = path.join(root, '..', 'growth-key.asc');
	const done = existsSync(stamp) ? Number(await readFile(stamp, 'utf8')) : 0;
	if (done >= count && existsSync(keyAsc)) {
		return keyAsc;
	}

	const started = Date.now();
	await rm(root, {recursive: true, force: true});
	await mkdir(root, {recursive: true});
	const {privateKey, publicKey} = await openpgp.generateKey({
		type: 'rsa',
		rsaBits: 2048,
		userIDs: [{name: 'Growth Bench Signer', email: 'growth@bench.test'}],
		format: 'object',
	});
	await writeFile(keyAsc, publicKey.armor());
	for (const name of keyFiles) {
		await writeFile(path.join(root, name), publicKey.armor());
	}

	const body = Buffer.alloc(512, 'growth bench artifact\n');
	const signature = await openpgp.sign({
		message: await openpgp.createMessage({binary: body}),
		signingKeys: privateKey,
		detached: true,
		format: 'armored',
	});
	const digest = createHash('sha512').update(body).digest('hex');
	const {refs} = selection(count);
	const made = new Map<string, Promise<unknown>>();
	// Written 64 at a time: 300,000 files one by one take minutes.
	for (let start = 0; start < refs.length; start += 64) {
		await Promise.all(
			refs.slice(start, start + 64).map(async (ref) => {
				const file = path.join(root, ref.path);
				const folder = path.dirname(file);
				let folderMade = made.get(folder);
				if (!folderMade) {
					folderMade = mkdir(folder, {recursive: true});
					made.set(folder, folderMade);
				}

				await folderMade;
				await Promise.all([
					writeFile(file, body),
					writeFile(`${file}.sha512`, `${digest}  ${ref.fileName}\n`),
					writeFile(`${file}.asc`, signature),
				]);
			}),
		);
	}

	await writeFile(stamp, String(count));
	log(`    upstream of ${refs.length} artifacts written in ${Date.now() - started} ms`);
	return keyAsc;
}

/** One command's wall time, CPU and peak RSS, from /usr/bin/time. */
type Cost = {readonly ms: number; readonly cpu: number; readonly rssMiB: number; readonly stdout: string};

async function cost(args: string[], timeFile: string): Promise<Cost> {
	const {ms, stdout} = await timed('/usr/bin/time', [
		'-f',
		'%U %S %M',
		'-o',
		timeFile,
		process.execPath,
		...args,
	]);
	const [user = 0, sys = 0, maxKiB = 0] = (await readFile(timeFile, 'utf8')).trim().split(/\s+/).map(Number);
	return {ms, cpu: user + sys, rssMiB: maxKiB / 1024, stdout};
}

function summaryOf(stdout: string): {result?: string; published?: number; present?: number} {
	const last = stdout.trim().split('\n').at(-1) ?? '{}';
	return (JSON.parse(last) as {summary?: {result: string; published: number; present: number}}).summary ?? {};
}

type Row = {count: number; firstSync: Cost; noop: Cost; bodies: number; exported: Cost; imported: Cost};

async function measureSize(
	context: GrowthBenchContext,
	count: number,
	upstream: {url: string; accessLog: string},
	keyAsc: string,
): Promise<Row> {
	const base = path.join(context.workDir, `growth-${count}`);
	await rm(base, {recursive: true, force: true});
	await mkdir(base, {recursive: true});
	const {versions: list, refs} = selection(count);
	const dir = path.join(base, 'mirror');
	const timeFile = path.join(base, 'time.txt');
	const sync = [
		context.cli,
		'sync',
		'--dir',
		dir,
		'--upstream',
		upstream.url,
		'--trusted-key',
		keyAsc,
		'--products',
		products.join(','),
		'--platforms',
		platforms.join(','),
		'--versions',
		list.join(','),
		'--json',
	];
	const firstSync = await cost(sync, timeFile);
	const first = summaryOf(firstSync.stdout);
	if (first.result !== 'success' || (first.published ?? 0) < refs.length) {
		throw new Error(`first sync of ${refs.length}: ${JSON.stringify(first)}`);
	}

	const logBefore = (await readFile(upstream.accessLog, 'utf8')).split('\n').length;
	const noop = await cost(sync, timeFile);
	const again = summaryOf(noop.stdout);
	if (again.result !== 'success' || again.published !== 0) {
		throw new Error(`no-op sync of ${refs.length}: ${JSON.stringify(again)}`);
	}

	const lines = (await readFile(upstream.accessLog, 'utf8')).split('\n').slice(logBefore - 1);
	const bodies = lines.filter((line) => /"GET [^ ]+\.(gz|zip|deb|rpm|msi) /.test(line)).length;
	const bundle = path.join(base, 'bundle.tar');
	const exported = await cost([context.cli, 'export', '--dir', dir, '--out', bundle], timeFile);
	const imported = await cost(
		[context.cli, 'import', '--dir', path.join(base, 'imported'), '--trusted-key', keyAsc, bundle],
		timeFile,
	);
	await rm(base, {recursive: true, force: true});
	return {count: refs.length, firstSync, noop, bodies, exported, imported};
}

const seconds = (value: Cost) =>
	`${(value.ms / 1000).toFixed(2)} s (${value.cpu.toFixed(1)} s CPU, ${value.rssMiB.toFixed(0)} MiB)`;

/** The growth table as Markdown: one row per size, each cell wall (CPU, peak RSS). */
export function growthTable(rows: readonly Row[]): string {
	const lines = [
		'| Artifacts | First sync | No-op sync (bodies fetched) | Export | Import |',
		'|---|---|---|---|---|',
	];
	for (const row of rows) {
		lines.push(
			`| ${row.count.toLocaleString('en-US')} | ${seconds(row.firstSync)} | ${seconds(row.noop)} (${row.bodies}) | ${seconds(row.exported)} | ${seconds(row.imported)} |`,
		);
	}

	const growth = (pick: (row: Row) => Cost, of: (cost: Cost) => number) =>
		rows
			.slice(1)
			.map((row, index) => {
				const previous = rows[index] as Row;
				const factor = of(pick(row)) / of(pick(previous));
				return `${(factor / (row.count / previous.count)).toFixed(2)}`;
			})
			.join(', ');
	const steps = (of: (cost: Cost) => number) =>
		`first sync ${growth((row) => row.firstSync, of)}; no-op ${growth((row) => row.noop, of)}; ` +
		`export ${growth((row) => row.exported, of)}; import ${growth((row) => row.imported, of)}`;
	lines.push(
		'',
		'Growth per step relative to linear (1.00 = linear, < 1 better, > 1 worse), ' +
			`wall time: ${steps((cost) => cost.ms)}; CPU time: ${steps((cost) => cost.cpu)}.`,
	);
	return lines.join('\n');
}

/** 13: sync, no-op sync, export and import at each of `sizes` artifacts. */
export async function growthBenches(
	context: GrowthBenchContext,
	sizes: readonly number[],
): Promise<Result[]> {
	const root = path.join(context.workDir, 'growth-upstream');
	context.log(`13. cost growth at ${sizes.join(', ')} artifacts`);
	const keyAsc = await ensureUpstream(root, Math.max(...sizes), context.log);
	const upstream = await startNginx({
		root,
		port: await freePort(),
		workDir: context.workDir,
		accessLog: true,
	});
	context.commands.push(
		`13: nginx serving ${perVersion} small files (512 B) per version; per size, in a fresh folder, under \`/usr/bin/time\`: \`node ${context.cli} sync --dir D --upstream U --trusted-key K --products <8> --platforms <10> --versions <n/80> --json\` twice (first, no-op), \`export --dir D --out B\`, \`import --dir D2 --trusted-key K B\``,
	);
	const rows: Row[] = [];
	try {
		for (const size of sizes) {
			const row = await measureSize(context, size, upstream, keyAsc);
			context.log(
				`    ${row.count}: first sync ${seconds(row.firstSync)}; no-op ${seconds(row.noop)}, ${row.bodies} bodies; export ${seconds(row.exported)}; import ${seconds(row.imported)}`,
			);
			rows.push(row);
		}
	} finally {
		await upstream.close();
	}

	context.log(growthTable(rows));
	return rows.map((row, index) => ({
		id: `13${String.fromCharCode(97 + index)}`,
		title: `Cost growth at ${row.count.toLocaleString('en-US')} artifacts: no-op sync (wall time)`,
		ours: measure([row.noop.ms], 'ms', row.noop.ms),
		extra: {
			'first sync': seconds(row.firstSync),
			'no-op sync': `${seconds(row.noop)}, ${row.bodies} bodies fetched`,
			export: seconds(row.exported),
			import: seconds(row.imported),
		},
		target: 'grows linearly or better; no-op < 5 s at 100,000 with 0 bodies',
		met: row.bodies === 0 && (row.count < 100_000 || row.noop.ms < 5000),
	}));
}
