/** Benchmarks 4, 4b, 5, 6: sync against the curl + sha512sum + gpgv pipeline, from a local nginx upstream. */
import {readFile, rm, stat} from 'node:fs/promises';
import path from 'node:path';
import type {FixtureSet, Fixtures} from './fixtures.js';
import {selectionFlags} from './fixtures.js';
import {median, type Run, timed, timedWithUsage, usageText} from './lib.js';
import type {Nginx} from './nginx.js';
import {measure, type Result} from './report.js';

/**
What a careful shell script does per artifact: fetch the file and both sidecars
(one curl, one connection), check the sha512, check the signature.
Arguments: upstream URL, output root, keyring, artifact path.
*/
export const pipelineScript = [
	'set -e',
	'd="$2/$(dirname "$4")"; f=$(basename "$4")',
	'mkdir -p "$d" && cd "$d"',
	'curl -fsS -o "$f" "$1/$4" -o "$f.sha512" "$1/$4.sha512" -o "$f.asc" "$1/$4.asc"',
	'sha512sum --quiet -c "$f.sha512"',
	'gpgv --quiet --keyring "$3" "$f.asc" "$f" 2>/dev/null',
].join('\n');

export type SyncBenchContext = {
	readonly fixtures: Fixtures;
	readonly upstream: Nginx;
	readonly cli: string;
	readonly runsDir: string;
	readonly repeat: number;
	readonly log: (line: string) => void;
	/** Commands as run, for the report. */
	readonly commands: string[];
};

/** The CLI's sync of `fixture` into `destination`: a directory or an s3:// store. */
export function syncArgs(
	context: Pick<SyncBenchContext, 'cli' | 'upstream' | 'fixtures'>,
	destination: string,
	fixture: FixtureSet,
): string[] {
	return [
		context.cli,
		'sync',
		destination.startsWith('s3://') ? '--store' : '--dir',
		destination,
		'--upstream',
		context.upstream.url,
		'--trusted-key',
		context.fixtures.keyAsc,
		...selectionFlags(fixture),
		'--json',
	];
}

function shellArgs(context: SyncBenchContext, dir: string, fixture: FixtureSet, parallel: number): string[] {
	const list = fixture.refs.map((ref) => ref.path).join('\n');
	const keyring = context.fixtures.keyGpg;
	const xargs = `printf '%s\\n' "$LIST" | xargs -P ${parallel} -n 1 sh -c '${pipelineScript.replaceAll("'", "'\\''")}' sh "$UPSTREAM" "$OUT" "$KEYRING"`;
	return [
		'-c',
		`LIST='${list}' UPSTREAM='${context.upstream.url}' OUT='${dir}' KEYRING='${keyring}'; ${xargs}`,
	];
}

/** The run must have published every artifact (keys count as published too). */
function checkSummary(stdout: string, artifacts: number): void {
	const {summary} = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
		summary?: {result: string; published: number; present: number};
	};
	if (summary?.result !== 'success' || summary.published + summary.present < artifacts) {
		throw new Error(`sync did not publish all ${artifacts} artifacts: ${JSON.stringify(summary)}`);
	}
}

/** Run `action` in an empty folder under the runs folder, then remove it; what it measured. */
async function inFreshDir(
	context: SyncBenchContext,
	name: string,
	action: (dir: string) => Promise<Run>,
): Promise<Run> {
	const dir = path.join(context.runsDir, name);
	await rm(dir, {recursive: true, force: true});
	const ms = await action(dir);
	await rm(dir, {recursive: true, force: true});
	return ms;
}

/** Sync `fixture` into a fresh folder. */
function oursOnce(context: SyncBenchContext, fixture: FixtureSet): Promise<Run> {
	return inFreshDir(context, 'ours', async (dir) => {
		const run = await timedWithUsage(process.execPath, syncArgs(context, dir, fixture));
		checkSummary(run.stdout, fixture.refs.length);
		return run;
	});
}

/** The pipeline on `fixture` into a fresh folder. */
function shellOnce(context: SyncBenchContext, fixture: FixtureSet, parallel: number): Promise<Run> {
	return inFreshDir(context, 'shell', async (dir) => {
		const run = await timedWithUsage('sh', shellArgs(context, dir, fixture, parallel));
		// The pipeline must have done the whole job for the comparison to count.
		for (const ref of fixture.refs.slice(0, 3)) {
			await stat(path.join(dir, ref.path));
		}

		return run;
	});
}

async function compare(
	context: SyncBenchContext,
	fixture: FixtureSet,
	parallel: number,
): Promise<{ours: Run[]; theirs: Run[]}> {
	const ours: Run[] = [];
	const theirs: Run[] = [];
	for (let run = 0; run < context.repeat; run++) {
		// Alternate which side goes first, so neither always gets the warmer cache.
		if (run % 2 === 0) {
			ours.push(await oursOnce(context, fixture));
			theirs.push(await shellOnce(context, fixture, parallel));
		} else {
			theirs.push(await shellOnce(context, fixture, parallel));
			ours.push(await oursOnce(context, fixture));
		}

		context.log(
			`    run ${run + 1}: ours ${ours.at(-1)?.ms.toFixed(0)} ms, shell ${theirs.at(-1)?.ms.toFixed(0)} ms`,
		);
	}

	return {ours, theirs};
}

/** A comparison's result: wall time against the pipeline, with both sides' CPU and this project's peak RSS. */
function syncResult(
	row: {id: string; title: string; ratio: number; rssMiB?: number},
	runs: {ours: Run[]; theirs: Run[]},
	label: string,
): Result {
	const ours = runs.ours.map((run) => run.ms);
	const theirs = runs.theirs.map((run) => run.ms);
	const ratio = median(ours) / median(theirs);
	const rss = runs.ours.flatMap((run) => (run.rssMiB === undefined ? [] : [run.rssMiB]));
	const rssMet = row.rssMiB === undefined || (rss.length > 0 && median(rss) <= row.rssMiB);
	return {
		id: row.id,
		title: row.title,
		ours: measure(ours, 'ms', median(ours)),
		theirs: {...measure(theirs, 'ms', median(theirs)), label},
		extra: {'usage, this project': usageText(runs.ours), [`usage, ${label}`]: usageText(runs.theirs)},
		target: `<= ${row.ratio}x the pipeline${row.rssMiB === undefined ? '' : `, peak RSS <= ${row.rssMiB} MiB`}`,
		met: ratio <= row.ratio && rssMet,
	};
}

function describeCommands(context: SyncBenchContext, fixture: FixtureSet, parallel: number, label: string) {
	const short = (args: string[]) =>
		args.map((arg) => (arg.length > 60 ? `'${arg.slice(0, 57)}...'` : arg)).join(' ');
	context.commands.push(
		`${label}, this project: \`node ${short(syncArgs(context, '<fresh dir>', fixture))}\``,
		`${label}, pipeline: \`... | xargs -P ${parallel} -n 1 sh -c '<script below>' sh <upstream> <fresh dir> key.gpg\``,
	);
}

/** 4: one 256 MiB artifact. */
export async function syncLarge(context: SyncBenchContext): Promise<Result> {
	context.log('4. sync, one large file');
	describeCommands(context, context.fixtures.large, 1, '4');
	const runs = await compare(context, context.fixtures.large, 1);
	return syncResult(
		{id: '4', title: 'Sync, one 256 MiB file signed with SHA-512 (wall time)', ratio: 0.5, rssMiB: 100},
		runs,
		'curl + sha512sum + gpgv',
	);
}

/**
4b: the same file signed with SHA-256 by a key of its own (download-benches.ts makes it):
the signature's digest comes from the same pass over the bytes as the sha512.
*/
export async function syncLargeSha256(
	context: SyncBenchContext,
	signed: {readonly set: FixtureSet; readonly keyAsc: string; readonly keyGpg: string},
): Promise<Result> {
	context.log('4b. sync, one large file signed with SHA-256');
	const keyed = {...context, fixtures: {...context.fixtures, keyAsc: signed.keyAsc, keyGpg: signed.keyGpg}};
	describeCommands(keyed, signed.set, 1, '4b');
	const runs = await compare(keyed, signed.set, 1);
	return syncResult(
		{id: '4b', title: 'Sync, one 256 MiB file signed with SHA-256 (wall time)', ratio: 0.5, rssMiB: 100},
		runs,
		'curl + sha512sum + gpgv',
	);
}

/** 5: 300 artifacts of 100 KiB to 5 MiB. */
export async function syncMany(context: SyncBenchContext): Promise<Result> {
	context.log(`5. sync, many files (${context.fixtures.many.refs.length})`);
	describeCommands(context, context.fixtures.many, 4, '5');
	const runs = await compare(context, context.fixtures.many, 4);
	const title = `Sync, ${context.fixtures.many.refs.length} files of 100 KiB-5 MiB (${(context.fixtures.many.bytes / 1024 ** 2).toFixed(0)} MiB) (wall time)`;
	return syncResult({id: '5', title, ratio: 0.6}, runs, 'the pipeline under xargs -P 4');
}

async function logLines(file: string): Promise<string[]> {
	const text = await readFile(file, 'utf8').catch(() => '');
	return text.split('\n').filter(Boolean);
}

/**
6: a mirror holding 3,000 artifacts, synced again. Leaves the mirror at `dir` for
the serve benchmarks.
*/
export async function syncNoop(context: SyncBenchContext, dir: string): Promise<Result> {
	const fixture = context.fixtures.scale;
	context.log(`6. no-op sync of ${fixture.refs.length} artifacts`);
	await rm(dir, {recursive: true, force: true});
	const full = await timed(process.execPath, syncArgs(context, dir, fixture));
	checkSummary(full.stdout, fixture.refs.length);
	context.log(`    first (full) sync: ${full.ms.toFixed(0)} ms`);
	context.commands.push(
		`6, this project: the same sync command as 4 with the 3,000-artifact selection, run twice`,
	);
	const times: number[] = [];
	const requests: number[] = [];
	let bodies = 0;
	for (let run = 0; run < context.repeat; run++) {
		const before = (await logLines(context.upstream.accessLog)).length;
		const {ms, stdout} = await timed(process.execPath, syncArgs(context, dir, fixture));
		checkSummary(stdout, fixture.refs.length);
		const lines = (await logLines(context.upstream.accessLog)).slice(before);
		times.push(ms);
		requests.push(lines.length);
		bodies += lines.filter((line) => /"GET [^ ]+\.(gz|zip|deb|rpm|msi) /.test(line)).length;
		context.log(`    run ${run + 1}: ${ms.toFixed(0)} ms, ${lines.length} upstream requests`);
	}

	return {
		id: '6',
		title: `No-op sync of a mirror holding ${fixture.refs.length} artifacts (wall time)`,
		ours: measure(times, 'ms', median(times)),
		extra: {
			'upstream requests per run': requests.join(', '),
			'artifact bodies fetched': String(bodies),
			'first full sync of the same 3,000': `${full.ms.toFixed(0)} ms`,
		},
		target: '< 2 s, no artifact bodies fetched',
		met: median(times) < 2000 && bodies === 0,
	};
}

/** Add the large file to the served mirror (untimed). */
export async function addLarge(context: SyncBenchContext, dir: string): Promise<void> {
	await timed(process.execPath, syncArgs(context, dir, context.fixtures.large));
}
