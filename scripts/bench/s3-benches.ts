/**
Benchmark 8: the S3 mode. One `serve --store s3://...` replica beside the store
itself (wrk against presigned URLs of the same objects), on the same machine: what
one replica adds or costs, and its memory under many slow downloads. Needs an S3
server: `bash scripts/s3/start-rgw.sh` starts Ceph radosgw on loopback, the default
endpoint here; another is given with MIRROR_S3_ENDPOINT and AWS_* credentials.
*/
import {type ChildProcess, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
	CreateBucketCommand,
	DeleteBucketCommand,
	DeleteObjectsCommand,
	GetObjectCommand,
	ListObjectsV2Command,
	S3Client,
} from '@aws-sdk/client-s3';
import {getSignedUrl} from '@aws-sdk/s3-request-presigner';
import type {FixtureSet, Fixtures} from './fixtures.js';
import {selectionFlags} from './fixtures.js';
import {freePort, median, stop, timed, waitFor} from './lib.js';
import type {Nginx} from './nginx.js';
import {measure, type Result} from './report.js';
import {runSlowClients, type ServeBenchContext, slowClientsResult} from './serve-benches.js';
import {syncArgs} from './sync-benches.js';
import {allWorkersUp, treeMemory, watchTreeMemory} from './workers-benches.js';
import {wrk, wrkArgs} from './wrk.js';

/** What the serve benchmarks get, without their mirror directory, plus the upstream to sync from. */
export type S3BenchContext = Omit<ServeBenchContext, 'mirrorDir'> & {readonly upstream: Nginx};

/** The S3 server and credentials: the environment's, else those of scripts/s3/start-rgw.sh. */
export const s3Settings = {
	endpoint: process.env.MIRROR_S3_ENDPOINT ?? 'http://127.0.0.1:7480',
	accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'CIACCESSKEY000000000',
	secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'CIsecretkey0000000000000000000000000000000',
};

/** Whether the S3 server answers; 8 is skipped with this reason when not. */
export async function s3Problem(): Promise<string | undefined> {
	try {
		await fetch(`${s3Settings.endpoint}/`, {signal: AbortSignal.timeout(3000)});
		return undefined;
	} catch (error) {
		return `no S3 server answers at ${s3Settings.endpoint} (${(error as Error).message}); start one with \`bash scripts/s3/start-rgw.sh\``;
	}
}

const childEnv = () => ({
	...process.env,
	AWS_ACCESS_KEY_ID: s3Settings.accessKeyId,
	AWS_SECRET_ACCESS_KEY: s3Settings.secretAccessKey,
	MIRROR_S3_ENDPOINT: s3Settings.endpoint,
	MIRROR_S3_PATH_STYLE: 'true',
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

function client(): S3Client {
	return new S3Client({
		endpoint: s3Settings.endpoint,
		region: 'us-east-1',
		forcePathStyle: true,
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
		credentials: {accessKeyId: s3Settings.accessKeyId, secretAccessKey: s3Settings.secretAccessKey},
	});
}

async function emptyAndDelete(s3: S3Client, bucket: string): Promise<void> {
	let token: string | undefined;
	do {
		const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
		const keys = (page.Contents ?? []).map((object) => ({Key: object.Key}));
		if (keys.length > 0) {
			await s3.send(new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: keys}}));
		}

		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);
	await s3.send(new DeleteBucketCommand({Bucket: bucket}));
}

type Server = {url: string; child: ChildProcess};

async function startServer(context: S3BenchContext, store: string, extra: string[] = []): Promise<Server> {
	const port = await freePort();
	const child = spawn(
		process.execPath,
		[
			context.cli,
			'serve',
			'--store',
			store,
			'--host',
			'127.0.0.1',
			'--port',
			String(port),
			'--no-access-log',
			...extra,
		],
		{stdio: ['ignore', 'ignore', 'inherit'], env: childEnv()},
	);
	const url = `http://127.0.0.1:${port}`;
	await waitFor(`${url}/readyz`);
	await allWorkersUp(url, os.availableParallelism());
	return {url, child};
}

/** The sidecar subset: 10 versions of elastic-agent on every platform of the scale set. */
function sidecarSet(fixtures: Fixtures): FixtureSet {
	const versions = fixtures.scale.versions.slice(0, 10);
	const refs = fixtures.scale.refs.filter(
		(ref) => ref.product === 'elastic-agent' && versions.includes(ref.version),
	);
	return {...fixtures.scale, products: ['elastic-agent'], versions, refs, bytes: refs.length * 16 * 1024};
}

/** 8: sync into a bucket, then one replica serving it beside the store itself. */
export async function s3Benches(context: S3BenchContext): Promise<Result[]> {
	const s3 = client();
	const bucket = `bench-${randomBytes(4).toString('hex')}`;
	await s3.send(new CreateBucketCommand({Bucket: bucket}));
	const store = `s3://${bucket}/mirror`;
	const results: Result[] = [];
	try {
		// 8e: the large file into fresh prefixes; the last one stays to be served.
		context.log('8e. sync one 256 MiB file into the bucket');
		const syncMs: number[] = [];
		for (let run = 0; run < context.repeat; run++) {
			const {ms} = await timed(
				process.execPath,
				syncArgs(
					context,
					run === context.repeat - 1 ? store : `s3://${bucket}/run-${run}`,
					context.fixtures.large,
				),
				{env: childEnv()},
			);
			syncMs.push(ms);
			context.log(`    ${ms.toFixed(0)} ms`);
		}

		context.commands.push(
			`8e: \`node dist/cli/index.js sync --store s3://<bucket>/<fresh prefix> --upstream <nginx> --trusted-key key.asc ${selectionFlags(context.fixtures.large).join(' ')} --json\` (radosgw at ${s3Settings.endpoint}, path style)`,
		);
		results.push({
			id: '8e',
			title: 'S3: sync one 256 MiB file into the bucket (wall time)',
			ours: measure(syncMs, 'ms', median(syncMs)),
			target: 'none (for comparison with 4)',
			met: true,
		});

		const sidecars = sidecarSet(context.fixtures);
		for (const fixture of [sidecars, context.fixtures.medium]) {
			await timed(process.execPath, syncArgs(context, store, fixture), {env: childEnv()});
		}

		const presign = (relative: string) =>
			getSignedUrl(s3, new GetObjectCommand({Bucket: bucket, Key: `mirror/${relative}`}), {expiresIn: 3600});
		const server = await startServer(context, store);
		try {
			results.push(
				...(await throughput(context, server, presign, [
					{id: '8a', connections: 16, title: 'through one replica, 16 clients'},
					{id: '8b', connections: 64, title: 'through one replica, 64 clients'},
				])),
			);
			results.push(await sidecarRate(context, server, sidecars, presign));
		} finally {
			await stop(server.child);
		}

		// Without shared blocks every download is its own stream from the store: what a
		// replica falls back to when its block budget is pinned by slow clients.
		const streaming = await startServer(context, store, ['--s3-block-cache', '0']);
		try {
			results.push(
				...(await throughput(context, streaming, presign, [
					{id: '8f', connections: 16, title: 'through one replica with --s3-block-cache 0, 16 clients'},
				])),
			);
		} finally {
			await stop(streaming.child);
		}

		// A fresh replica, so that its peak memory is the slow clients' alone.
		const fresh = await startServer(context, store);
		try {
			results.push(await slowClients(context, fresh));
		} finally {
			await stop(fresh.child);
		}
	} finally {
		await emptyAndDelete(s3, bucket).catch((error: unknown) => context.log(`    cleanup: ${error}`));
		s3.destroy();
	}

	return results;
}

/** 8a, 8b, 8f: the 256 MiB file through one replica against the store's own GETs. */
async function throughput(
	context: S3BenchContext,
	server: Server,
	presign: (relative: string) => Promise<string>,
	variants: ReadonlyArray<{id: string; connections: number; title: string}>,
): Promise<Result[]> {
	const relative = context.fixtures.large.refs[0]?.path ?? '';
	const direct = await presign(relative);
	const results: Result[] = [];
	for (const {id, connections, title} of variants) {
		context.log(`${id}. S3, large file, ${title}`);
		context.commands.push(
			`${id}: \`wrk ${wrkArgs({url: '<url>', connections, seconds: context.seconds}).join(' ')}\`, <url> the replica's path or a presigned GET URL of the object`,
		);
		const runs = {ours: [] as number[], store: [] as number[]};
		for (let run = 0; run < context.repeat; run++) {
			const order = run % 2 === 0 ? (['ours', 'store'] as const) : (['store', 'ours'] as const);
			for (const side of order) {
				const url = side === 'ours' ? `${server.url}/${relative}` : direct;
				const result = await wrk({url, connections, seconds: context.seconds});
				if (result.errors) {
					throw new Error(`${side}: ${result.errors}`);
				}

				runs[side].push(result.bytesPerSecond / 1024 ** 2);
				context.log(`    ${side}: ${(result.bytesPerSecond / 1024 ** 2).toFixed(0)} MiB/s`);
			}
		}

		results.push({
			id,
			title: `S3: serve the 256 MiB file ${title} (aggregate throughput)`,
			ours: measure(runs.ours, 'MiB/s', median(runs.ours)),
			theirs: {...measure(runs.store, 'MiB/s', median(runs.store)), label: 'radosgw directly'},
			target: '>= 0.9x the store directly',
			met: median(runs.ours) / median(runs.store) >= 0.9,
		});
	}

	return results;
}

/** 8c: sidecars through one replica (kept in memory) against the store's own GETs. */
async function sidecarRate(
	context: S3BenchContext,
	server: Server,
	fixture: FixtureSet,
	presign: (relative: string) => Promise<string>,
): Promise<Result> {
	context.log('8. S3, sidecars, 100 connections');
	const relatives = fixture.refs.flatMap((ref) => [`${ref.path}.sha512`, `${ref.path}.asc`]);
	const scriptFor = async (name: string, paths: string[]) => {
		const file = path.join(context.workDir, name);
		await writeFile(
			file,
			`local paths = {${paths.map((entry) => JSON.stringify(entry)).join(',')}}\n` +
				'local i = 0\n' +
				'request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n',
		);
		return file;
	};

	const ours = await scriptFor(
		's3-sidecars.lua',
		relatives.map((relative) => `/${relative}`),
	);
	const signed = await Promise.all(relatives.map(presign));
	const theirs = await scriptFor(
		's3-sidecars-direct.lua',
		signed.map((url) => {
			const parsed = new URL(url);
			return `${parsed.pathname}${parsed.search}`;
		}),
	);
	context.commands.push(
		`8c: \`wrk ${wrkArgs({url: '<base>/', connections: 100, seconds: context.seconds, script: '<script>'}).join(' ')}\` (the script cycles through ${relatives.length} .sha512 and .asc paths, presigned for the store)`,
	);
	const runs = {ours: [] as number[], store: [] as number[], oursP99: [] as number[]};
	const base = new URL(s3Settings.endpoint).origin;
	for (let run = 0; run < context.repeat; run++) {
		const order = run % 2 === 0 ? (['ours', 'store'] as const) : (['store', 'ours'] as const);
		for (const side of order) {
			const result = await wrk({
				url: side === 'ours' ? `${server.url}/` : `${base}/`,
				connections: 100,
				seconds: context.seconds,
				script: side === 'ours' ? ours : theirs,
			});
			if (result.errors) {
				throw new Error(`${side}: ${result.errors}`);
			}

			runs[side].push(result.requestsPerSecond);
			if (side === 'ours') {
				runs.oursP99.push(result.p99Ms);
			}

			context.log(
				`    ${side}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms`,
			);
		}
	}

	return {
		id: '8c',
		title: 'S3: serve sidecars through one replica, 100 connections (requests/s)',
		ours: measure(runs.ours, 'req/s', median(runs.ours)),
		theirs: {...measure(runs.store, 'req/s', median(runs.store)), label: 'radosgw directly'},
		extra: {'p99 latency, this project (ms)': runs.oursP99.map((value) => value.toFixed(2)).join(', ')},
		target: '>= 0.5x the store directly, p99 < 20 ms',
		met: median(runs.ours) / median(runs.store) >= 0.5 && median(runs.oursP99) < 20,
	};
}

/** 8d: many slow downloads through one replica: peak RSS and byte-exact completion. */
async function slowClients(context: S3BenchContext, server: Server): Promise<Result> {
	const idle = treeMemory(server.child.pid ?? 0);
	const watch = watchTreeMemory(server.child.pid ?? 0);
	const clients = context.slowClients;
	const ref = context.fixtures.medium.refs[0];
	context.log(`8d. S3, ${clients} slow clients of the 32 MiB file`);
	const file = path.join(context.fixtures.upstreamDir, ref?.path ?? '');
	if (!existsSync(file)) {
		throw new Error(`${file} is missing`);
	}

	const rate = 64 * 1024;
	context.commands.push(
		`8d: \`node --import tsx/esm scripts/bench/slow-clients.ts <url> <file> ${clients} ${context.slowSeconds} ${rate}\` against the replica (the 32 MiB file)`,
	);
	const summary = await runSlowClients({
		url: `${server.url}/${ref?.path}`,
		file,
		clients,
		slowSeconds: context.slowSeconds,
		rate,
	});
	return slowClientsResult({
		id: '8d',
		title: `S3: ${clients} slow concurrent downloads of a 32 MiB file through one replica (peak RSS)`,
		idle,
		peak: watch.stop(),
		clients,
		summary,
		log: context.log,
	});
}
