/**
Benchmark 12: the upgrade wave on the directory store. A thousand agents download the
same 256 MiB artifact at once, at full speed: aggregate throughput against nginx
(sendfile) on the same tree, sides alternating, and the peak RSS of this project's
server over all its runs.
*/
import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import os from 'node:os';
import {freePort, median, stop, waitFor} from './lib.js';
import {startNginx} from './nginx.js';
import {measure, type Result} from './report.js';
import {type ServeBenchContext, serveArgs} from './serve-benches.js';
import {allWorkersUp, treeMemory, watchTreeMemory} from './workers-benches.js';
import {wrk, wrkArgs} from './wrk.js';

const connections = 1000;

/** The descriptor limit children of this process get: wrk and each server need one per client. */
function descriptorLimit(): number {
	return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
}

async function startOurs(context: ServeBenchContext): Promise<{url: string; child: ChildProcess}> {
	const port = await freePort();
	const child = spawn(process.execPath, serveArgs(context, port), {stdio: ['ignore', 'ignore', 'inherit']});
	const url = `http://127.0.0.1:${port}`;
	await waitFor(`${url}/healthz`);
	return {url, child};
}

/** 12: 1,000 clients at full speed on the 256 MiB file, this project against nginx. */
export async function serveWave(context: ServeBenchContext): Promise<Result> {
	const limit = descriptorLimit();
	if (limit < 2 * connections + 100) {
		throw new Error(`12 needs \`ulimit -n\` of at least ${2 * connections + 100} (it is ${limit})`);
	}

	context.log(`12. serve, upgrade wave: ${connections} clients at full speed on the large file`);
	const file = `/${context.fixtures.large.refs[0]?.path}`;
	context.commands.push(
		`12, both servers: \`wrk ${wrkArgs({url: `<base>${file}`, connections, seconds: context.seconds}).join(' ')}\` (no download finishes in that time: every client is inside the file, as in a wave); peak memory of this project's whole process tree (primary and workers; shared code counted once) sampled every 200 ms over all runs`,
	);
	const ours = await startOurs(context);
	const nginx = await startNginx({root: context.mirrorDir, port: await freePort(), workDir: context.workDir});
	const pid = ours.child.pid ?? 0;
	// serve runs a worker per core by default: every one must listen, and the tree's memory counts.
	await allWorkersUp(ours.url, os.availableParallelism());
	const idle = treeMemory(pid).once;
	const watch = watchTreeMemory(pid);
	const runs = {ours: [] as number[], nginx: [] as number[]};
	let peak = 0;
	try {
		for (let run = 0; run < context.repeat; run++) {
			const order = run % 2 === 0 ? (['ours', 'nginx'] as const) : (['nginx', 'ours'] as const);
			for (const side of order) {
				const base = side === 'ours' ? ours.url : nginx.url;
				const result = await wrk({url: `${base}${file}`, connections, seconds: context.seconds});
				// Timeouts are expected (no 256 MiB body completes); refused or reset connections are not.
				if (result.errors && /connect [1-9]|read [1-9]|write [1-9]|Non-2xx/.test(result.errors)) {
					throw new Error(`${side}: ${result.errors}`);
				}

				const mibs = result.bytesPerSecond / 1024 ** 2;
				context.log(`    ${side}: ${mibs.toFixed(0)} MiB/s`);
				runs[side].push(mibs);
			}
		}

		// Read while the server still runs: /proc forgets it once it exits.
		peak = watch.stop().once;
	} finally {
		await stop(ours.child).catch(() => undefined);
		await nginx.close();
	}

	const peakMib = peak / 1024 ** 2;
	const ratio = median(runs.ours) / median(runs.nginx);
	return {
		id: '12',
		title: `Serve the 256 MiB file to ${connections} clients at full speed (upgrade wave, aggregate throughput)`,
		ours: measure(runs.ours, 'MiB/s', median(runs.ours)),
		theirs: {...measure(runs.nginx, 'MiB/s', median(runs.nginx)), label: 'nginx sendfile'},
		extra: {
			'peak RSS of this project (whole process tree)': `${peakMib.toFixed(0)} MiB`,
			'RSS when idle': `${(idle / 1024 ** 2).toFixed(0)} MiB`,
		},
		target: '>= 0.8x nginx, peak RSS < 200 MiB',
		met: ratio >= 0.8 && peakMib < 200,
	};
}
