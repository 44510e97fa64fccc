/**
Benchmark 9: the catalogue and the API over a large manifest (10,000 and 100,000
artifacts, synthetic), and what they cost the other clients: the latency of an
agent's download while pages and API answers are being built and sent. Needs no
fixtures and no other server: the manifest lists artifacts that are not on disk,
except the one file that is downloaded.
*/
import {type ChildProcess, spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, writeFile} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {freePort, getOnce, memoryOf, percentile, stop, waitFor} from './lib.js';
import {measure, type Result} from './report.js';

/** What benchmark 9 needs. */
export type CatalogueBenchContext = {
	readonly cli: string;
	readonly workDir: string;
	/** How long the page and API load runs beside the downloads. */
	readonly seconds: number;
	readonly log: (line: string) => void;
	readonly commands: string[];
};

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

/** A mirror whose manifest lists `count` artifacts; one of them (returned) is on disk. */
async function syntheticMirror(dir: string, count: number): Promise<string> {
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
	await writeFile(path.join(state, 'manifest.json'), JSON.stringify({schema: 1, files, keys: {}}));
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

/** GET `url` once on `agent`; resolves with the time and the body size. */
function fetchOnce(url: string, agent: http.Agent): Promise<{ms: number; bytes: number}> {
	const started = process.hrtime.bigint();
	return new Promise((resolve, reject) => {
		http
			.get(url, {agent}, (response) => {
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

async function measureOne(
	context: CatalogueBenchContext,
	count: number,
	ids: readonly [string, string],
): Promise<Result[]> {
	const dir = path.join(context.workDir, `catalogue-${count}`);
	const download = existsSync(path.join(dir, '.mirror', 'manifest.json'))
		? 'downloads/beats/elastic-agent/elastic-agent-8.0.0-linux-x86_64.tar.gz'
		: await syntheticMirror(dir, count);
	const port = await freePort();
	const child: ChildProcess = spawn(
		process.execPath,
		[context.cli, 'serve', '--dir', dir, '--host', '127.0.0.1', '--port', String(port), '--no-access-log'],
		{stdio: ['ignore', 'ignore', 'inherit']},
	);
	const base = `http://127.0.0.1:${port}`;
	try {
		await waitFor(`${base}/healthz`);
		const idle = await downloadLatencies(`${base}/${download}`, () => true, 50);
		const pageAgent = new http.Agent({keepAlive: true, maxSockets: 1});
		const apiAgent = new http.Agent({keepAlive: true, maxSockets: 1});
		const firstPage = await fetchOnce(`${base}/`, pageAgent);
		const firstApi = await fetchOnce(`${base}/api/v1/artifacts`, apiAgent);
		// The load: one client re-reading `/` and one re-reading the API, back to back,
		// while an agent downloads the small artifact again and again.
		const page: number[] = [];
		const api: number[] = [];
		const deadline = Date.now() + context.seconds * 1000;
		const done = () => Date.now() > deadline;
		const loop = async (url: string, agent: http.Agent, into: number[]) => {
			while (!done()) {
				into.push((await fetchOnce(url, agent)).ms);
			}
		};
		const [loaded] = await Promise.all([
			downloadLatencies(`${base}/${download}`, done, 20),
			loop(`${base}/`, pageAgent, page),
			loop(`${base}/api/v1/artifacts`, apiAgent, api),
		]);
		pageAgent.destroy();
		apiAgent.destroy();
		const peak = memoryOf(child.pid ?? 0).peak;
		const label = count.toLocaleString('en-US');
		context.log(
			`    ${label}: / ${stats(page)} (${mib(firstPage.bytes)}); API ${stats(api)} (${mib(firstApi.bytes)}); download idle ${stats(idle)}, loaded ${stats(loaded)}; peak RSS ${mib(peak)}`,
		);
		const pageP50 = percentile(page, 50);
		const loadedP99 = percentile(loaded, 99);
		return [
			{
				id: ids[0],
				title: `\`/\` and \`/api/v1/artifacts\` with ${label} artifacts, both re-read back to back (\`/\` median)`,
				ours: measure([pageP50], 'ms', pageP50),
				extra: {
					'/': `${stats(page)}; first ${firstPage.ms.toFixed(0)} ms; ${mib(firstPage.bytes)}`,
					'/api/v1/artifacts': `${stats(api)}; first ${firstApi.ms.toFixed(0)} ms; ${mib(firstApi.bytes)}`,
					'peak RSS': mib(peak),
				},
				target: '`/` < 100 ms and < 1 MiB',
				met: pageP50 < 100 && firstPage.bytes < 1048576,
			},
			{
				id: ids[1],
				title: `A 1 MiB download while \`/\` and the API with ${label} artifacts are re-read (p99)`,
				ours: measure([loadedP99], 'ms', loadedP99),
				theirs: {
					...measure([percentile(idle, 99)], 'ms', percentile(idle, 99)),
					label: 'the same download, idle',
				},
				extra: {loaded: stats(loaded), idle: stats(idle)},
				target: 'p99 < 100 ms',
				met: loadedP99 < 100,
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
		`9: \`node ${context.cli} serve --dir <synthetic mirror> --no-access-log\`; for ${context.seconds} s, one keep-alive client GETs \`/\` and one \`/api/v1/artifacts\` back to back while a third downloads a 1 MiB artifact in a loop`,
	);
	const results: Result[] = [];
	for (const [index, count] of sizes.entries()) {
		context.log(`9. catalogue with ${count} artifacts`);
		const letter = (offset: number) => `9${String.fromCharCode(97 + index * 2 + offset)}`;
		results.push(...(await measureOne(context, count, [letter(0), letter(1)])));
	}

	return results;
}
