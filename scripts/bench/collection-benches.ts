/**
Benchmark 10: the integration package and Elastic Defend collections, end to end as
users run them: a first sync and a no-op re-sync of each from a local stand-in for
its upstream (the test suite's fake registry and fake security host, in this
process), then what serving them costs: `/search` with a Kibana version, and the
conditional manifest poll every endpoint makes. Needs no tool. No targets yet
(issue 19 sets the scale ones); the figures are here so that regressions show.
*/
import {type ChildProcess, spawn} from 'node:child_process';
import {rm} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {type FakeRegistry, standardPackages, startFakeRegistry} from '../../test/helpers/fake-registry.js';
import {
	type FakeSecurityHost,
	standardDefendVersions,
	startFakeSecurityHost,
} from '../../test/helpers/fake-security.js';
import {createTestKey} from '../../test/helpers/keys.js';
import {freePort, median, percentile, stop, timed, waitFor} from './lib.js';
import {measure, type Result} from './report.js';

/** What benchmark 10 needs. */
export type CollectionBenchContext = {
	readonly cli: string;
	readonly workDir: string;
	readonly repeat: number;
	readonly log: (line: string) => void;
	readonly commands: string[];
};

/** Sequential requests on one keep-alive connection; resolves with each one's time. */
async function latencies(
	url: string,
	count: number,
	headers: Record<string, string> = {},
): Promise<number[]> {
	const agent = new http.Agent({keepAlive: true, maxSockets: 1});
	const times: number[] = [];
	try {
		for (let index = 0; index < count; index++) {
			const started = process.hrtime.bigint();
			const status = await new Promise<number>((resolve, reject) => {
				http
					.get(url, {agent, headers}, (response) => {
						response.resume();
						response.on('end', () => resolve(response.statusCode ?? 0));
					})
					.on('error', reject);
			});
			if (status !== 200 && status !== 304) {
				throw new Error(`${url} answered ${status}`);
			}

			times.push(Number(process.hrtime.bigint() - started) / 1e6);
		}
	} finally {
		agent.destroy();
	}

	return times;
}

/** A first sync into an empty folder, then `repeat` no-op re-syncs, counting the bodies the upstream sent. */
async function firstAndNoop(
	context: CollectionBenchContext,
	args: string[],
	bodies: () => number,
): Promise<{first: number[]; noop: number[]; noopBodies: number}> {
	const dir = args[args.indexOf('--dir') + 1] as string;
	const first: number[] = [];
	for (let run = 0; run < context.repeat; run++) {
		await rm(dir, {recursive: true, force: true});
		first.push((await timed(process.execPath, [context.cli, ...args])).ms);
	}

	const before = bodies();
	const noop: number[] = [];
	for (let run = 0; run < context.repeat; run++) {
		noop.push((await timed(process.execPath, [context.cli, ...args])).ms);
	}

	return {first, noop, noopBodies: bodies() - before};
}

const count = (upstream: FakeRegistry | FakeSecurityHost, test: (path: string) => boolean) =>
	upstream.requests.filter((request) => request.status === 200 && test(request.path)).length;

/** Run benchmark 10; resolves with its rows. */
export async function collectionBenches(context: CollectionBenchContext): Promise<Result[]> {
	const key = await createTestKey('Bench Signer');
	const keyPath = await key.writePublic(context.workDir, 'bench-registry-key.asc');
	const registry = await startFakeRegistry({
		key,
		packages: standardPackages.filter((spec) => !spec.badSignature),
	});
	// The version whose artifact is corrupt would fail every run: only good versions are timed.
	const goodVersions = standardDefendVersions.filter((version) =>
		version.artifacts.every((artifact) => !artifact.corrupt),
	);
	const security = await startFakeSecurityHost({versions: goodVersions});
	const defendVersions = goodVersions.map((version) => version.version);
	const dir = path.join(context.workDir, 'collections-mirror');
	const results: Result[] = [];
	let server: ChildProcess | undefined;
	try {
		const packageArgs = [
			'sync',
			...['--dir', dir, '--json'],
			...['--packages', 'all', '--kibana-versions', '8.15.0,9.1.0'],
			...['--registry', registry.url, '--trusted-key', keyPath],
		];
		context.log('10. packages: first sync and no-op re-sync');
		const packages = await firstAndNoop(context, packageArgs, () =>
			count(registry, (p) => p.endsWith('.zip')),
		);
		const defendArgs = [
			'sync',
			...['--dir', dir, '--json'],
			...['--defend-artifacts', defendVersions.join(','), '--defend-upstream', security.url],
		];
		context.log('10. Defend: first sync and no-op re-sync');
		const defend = await firstAndNoop(context, defendArgs, () =>
			count(security, (p) => p.startsWith('/downloads/endpoint/artifacts/')),
		);
		// The Defend runs started from an empty folder: sync the packages back for the serve rows.
		await timed(process.execPath, [context.cli, ...packageArgs]);
		context.commands.push(
			`10a/10b: \`artifact-mirror ${packageArgs.join(' ').replace(registry.url, '<fake registry>')}\` into an empty folder, then again`,
			`10c/10d: \`artifact-mirror ${defendArgs.join(' ').replace(security.url, '<fake security host>')}\` into an empty folder, then again`,
		);
		results.push(
			{
				id: '10a',
				title: `Sync the standard package set (${registry.packages.length} versions upstream, 2 Kibana versions), first run (wall time)`,
				ours: measure(packages.first, 'ms', median(packages.first)),
				target: 'none (a figure to compare against)',
				met: true,
			},
			{
				id: '10b',
				title: 'No-op package re-sync (wall time)',
				ours: measure(packages.noop, 'ms', median(packages.noop)),
				extra: {'zips downloaded by the no-op runs': String(packages.noopBodies)},
				target: 'no zip downloaded',
				met: packages.noopBodies === 0,
			},
			{
				id: '10c',
				title: `Sync Defend protections for ${defendVersions.length} versions, first run (wall time)`,
				ours: measure(defend.first, 'ms', median(defend.first)),
				target: 'none (a figure to compare against)',
				met: true,
			},
			{
				id: '10d',
				title: 'No-op Defend re-sync: conditional manifest GETs (wall time)',
				ours: measure(defend.noop, 'ms', median(defend.noop)),
				extra: {'artifacts downloaded by the no-op runs': String(defend.noopBodies)},
				target: 'no artifact downloaded',
				met: defend.noopBodies === 0,
			},
		);

		const port = await freePort();
		server = spawn(
			process.execPath,
			[context.cli, 'serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port), '--no-access-log'],
			{stdio: ['ignore', 'ignore', 'inherit']},
		);
		const base = `http://127.0.0.1:${port}`;
		await waitFor(`${base}/healthz`);
		const search = await latencies(`${base}/search?kibana.version=9.1.0`, 500);
		const manifestUrl = `${base}/downloads/endpoint/manifest/artifacts-${defendVersions.at(-1)}.zip`;
		const etag = await new Promise<string>((resolve, reject) => {
			http
				.get(manifestUrl, (response) => {
					response.resume();
					resolve(String(response.headers.etag));
				})
				.on('error', reject);
		});
		const poll = await latencies(manifestUrl, 500, {'If-None-Match': etag});
		results.push(
			{
				id: '10e',
				title: '`/search?kibana.version=9.1.0`, 500 sequential requests (latency)',
				ours: measure([median(search)], 'ms', median(search)),
				extra: {p99: `${percentile(search, 99).toFixed(2)} ms`, requests: String(search.length)},
				target: 'none here (9 checks p50 < 50 ms with 5,000 versions)',
				met: true,
			},
			{
				id: '10f',
				title: "An endpoint's conditional Defend manifest poll (304), 500 sequential requests (latency)",
				ours: measure([median(poll)], 'ms', median(poll)),
				extra: {p99: `${percentile(poll, 99).toFixed(2)} ms`, requests: String(poll.length)},
				target: 'none (a figure to compare against)',
				met: true,
			},
		);
		context.commands.push(
			'10e/10f: `artifact-mirror serve` on that folder; one keep-alive connection, 500 requests each',
		);
	} finally {
		if (server) {
			await stop(server);
		}

		await Promise.all([registry.close(), security.close()]);
	}

	return results;
}
