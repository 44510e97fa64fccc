/**
Benchmark 9: the catalogue and the API over a large manifest (10,000 and 100,000
artifacts, synthetic), and what they cost the other clients: the latency of an
agent's download while pages and API answers are being built and sent; with 5,000
package versions (`/search`) and 500 image tags beside them (issue 19, target 5),
the serve process's peak RSS, and the time from its start to the first byte of `/`.
Needs no fixtures and no other server (catalogue-mirror.ts writes the mirror).
*/
import {type ChildProcess, spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
	imageRepositories,
	imageTags,
	packageCount,
	packageVersions,
	syntheticMirror,
} from './catalogue-mirror.js';
import {freePort, getOnce, percentile, stop, waitFor} from './lib.js';
import {measure, type Result} from './report.js';
import {allWorkersUp, watchTreeMemory} from './workers-benches.js';

/** What benchmark 9 needs. */
export type CatalogueBenchContext = {
	readonly cli: string;
	readonly workDir: string;
	/** How long the page and API load runs beside the downloads. */
	readonly seconds: number;
	readonly log: (line: string) => void;
	readonly commands: string[];
};

/** GET `url` once on `agent`; resolves with the time and the body size. */
function fetchOnce(
	url: string,
	agent: http.Agent,
	headers: Record<string, string> = {},
): Promise<{ms: number; bytes: number}> {
	const started = process.hrtime.bigint();
	return new Promise((resolve, reject) => {
		http
			.get(url, {agent, headers}, (response) => {
				let bytes = 0;
				response.on('data', (chunk: Buffer) => {
					bytes += chunk.length;
				});
				response.on('end', () => {
					if (response.statusCode !== 200) {
						reject(new Error(`${url} answered ${response.statusCode}`));
						return;
					}

					resolve({ms: Number(process.hrtime.bigint() - started) / 1e6, bytes});
				});
				response.on('error', reject);
			})
			.on('error', reject);
	});
}

/** Sequential download latencies of `url` until `until()` is true (at least `min` of them). */
async function downloadLatencies(url: string, until: () => boolean, min: number): Promise<number[]> {
	const agent = new http.Agent({keepAlive: true, maxSockets: 1});
	const times: number[] = [];
	try {
		while (times.length < min || !until()) {
			times.push((await getOnce(url, agent)).ms);
		}
	} finally {
		agent.destroy();
	}

	return times;
}

const stats = (values: number[]) =>
	`p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms (${values.length} requests)`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(2)} MiB`;

/** The pages and answers re-read under load, each by one keep-alive client. */
const loadedRoutes = [
	['/', '/'],
	['/api/v1/artifacts', '/api/v1/artifacts'],
	['/search', '/search?kibana.version=9.1.0'],
	['/v1/versions', '/v1/versions'],
] as const;

/** Spawn time to the first byte of `/`, polling until the server listens. */
async function firstByte(url: string, started: bigint): Promise<number> {
	for (;;) {
		const asked = process.hrtime.bigint();
		try {
			const {status, firstByteMs} = await getOnce(url);
			if (status === 200) {
				return Number(asked - started) / 1e6 + firstByteMs;
			}
		} catch {
			// not listening yet
		}

		await new Promise((resolve) => setTimeout(resolve, 2));
	}
}

async function measureOne(
	context: CatalogueBenchContext,
	count: number,
	ids: readonly [string, string],
): Promise<Result[]> {
	const dir = path.join(context.workDir, `catalogue-v2-${count}`);
	const download = existsSync(path.join(dir, '.mirror', 'manifest.json'))
		? 'downloads/beats/elastic-agent/elastic-agent-8.0.0-linux-x86_64.tar.gz'
		: await syntheticMirror(dir, count);
	const port = await freePort();
	const base = `http://127.0.0.1:${port}`;
	const spawned = process.hrtime.bigint();
	const child: ChildProcess = spawn(
		process.execPath,
		[context.cli, 'serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port), '--no-access-log'],
		{stdio: ['ignore', 'ignore', 'inherit']},
	);
	// serve runs a worker per core by default: the whole process tree's memory is what counts.
	const watch = watchTreeMemory(child.pid ?? 0);
	try {
		const startup = await firstByte(`${base}/`, spawned);
		await waitFor(`${base}/healthz`);
		await allWorkersUp(base, os.availableParallelism());
		const idle = await downloadLatencies(`${base}/${download}`, () => true, 50);
		const agents = loadedRoutes.map(() => new http.Agent({keepAlive: true, maxSockets: 1}));
		const first = await Promise.all(
			loadedRoutes.map(([, route], index) => fetchOnce(`${base}${route}`, agents[index] as http.Agent)),
		);
		// The load: one client per route re-reading it back to back, while an agent
		// downloads the small artifact again and again; a stall of the server's event
		// loop shows as a slow download.
		const times: number[][] = loadedRoutes.map(() => []);
		const deadline = Date.now() + context.seconds * 1000;
		const done = () => Date.now() > deadline;
		const loop = async (url: string, agent: http.Agent, into: number[]) => {
			while (!done()) {
				into.push((await fetchOnce(url, agent)).ms);
			}
		};
		const [loaded] = await Promise.all([
			downloadLatencies(`${base}/${download}`, done, 20),
			...loadedRoutes.map(([, route], index) =>
				loop(`${base}${route}`, agents[index] as http.Agent, times[index] as number[]),
			),
		]);
		for (const agent of agents) {
			agent.destroy();
		}

		// The API as a browser or `curl --compressed` asks for it (gzip), on its own.
		const gzipAgent = new http.Agent({keepAlive: true, maxSockets: 1});
		const gzipped: Array<{ms: number; bytes: number}> = [];
		for (let index = 0; index < 20; index++) {
			gzipped.push(await fetchOnce(`${base}/api/v1/artifacts`, gzipAgent, {'Accept-Encoding': 'gzip'}));
		}

		gzipAgent.destroy();
		const gzipText = `${stats(gzipped.map((each) => each.ms))}; ${mib(gzipped[0]?.bytes ?? 0)} on the wire`;
		const peak = watch.stop().once;
		const label = count.toLocaleString('en-US');
		const routeText = loadedRoutes.map(
			([name], index) =>
				`${name} ${stats(times[index] as number[])}; first ${(first[index]?.ms ?? 0).toFixed(0)} ms; ${mib(first[index]?.bytes ?? 0)}`,
		);
		context.log(
			`    ${label}: first byte of / ${startup.toFixed(0)} ms after spawn; ${routeText.join('; ')}; API with gzip, alone: ${gzipText}; download idle ${stats(idle)}, loaded ${stats(loaded)}, max ${Math.max(...loaded).toFixed(1)} ms; peak RSS ${mib(peak)}`,
		);
		const p50s = times.map((list) => percentile(list, 50));
		const worst = Math.max(...p50s);
		const loadedP99 = percentile(loaded, 99);
		return [
			{
				id: ids[0],
				title: `\`/\`, \`/api/v1/artifacts\`, \`/search\`, \`/v1/versions\` with ${label} artifacts, ${packageCount * packageVersions} package versions, ${imageRepositories * imageTags} image tags, each re-read back to back (slowest p50)`,
				ours: measure([worst], 'ms', worst),
				extra: {
					...Object.fromEntries(loadedRoutes.map(([name], index) => [name, routeText[index] ?? ''])),
					'/api/v1/artifacts with Accept-Encoding: gzip, alone': gzipText,
					'first byte of / after spawn': `${startup.toFixed(0)} ms`,
					'peak RSS': mib(peak),
				},
				target: 'each p50 < 50 ms, peak RSS < 300 MiB, first byte < 2 s',
				met: worst < 50 && peak < 300 * 1048576 && startup < 2000,
			},
			{
				id: ids[1],
				title: `A 1 MiB download while those are re-read with ${label} artifacts (p99)`,
				ours: measure([loadedP99], 'ms', loadedP99),
				theirs: {
					...measure([percentile(idle, 99)], 'ms', percentile(idle, 99)),
					label: 'the same download, idle',
				},
				extra: {loaded: `${stats(loaded)}, max ${Math.max(...loaded).toFixed(1)} ms`, idle: stats(idle)},
				target: 'no stall over 50 ms: p99 < 50 ms',
				met: loadedP99 < 50,
			},
		];
	} finally {
		await stop(child);
	}
}

/** 9: the catalogue at each of `sizes` artifacts (9a/9b for the first, 9c/9d for the second, ...). */
export async function largeCatalogue(
	context: CatalogueBenchContext,
	sizes: readonly number[],
): Promise<Result[]> {
	context.commands.push(
		`9: \`node ${context.cli} serve --dir <synthetic mirror> --no-access-log\`; the time from spawn to the first byte of \`/\`; then for ${context.seconds} s, one keep-alive client each GETs \`/\`, \`/api/v1/artifacts\`, \`/search?kibana.version=9.1.0\` and \`/v1/versions\` back to back while another downloads a 1 MiB artifact in a loop`,
	);
	const results: Result[] = [];
	for (const [index, count] of sizes.entries()) {
		context.log(`9. catalogue with ${count} artifacts`);
		const letter = (offset: number) => `9${String.fromCharCode(97 + index * 2 + offset)}`;
		results.push(...(await measureOne(context, count, [letter(0), letter(1)])));
	}

	return results;
}
