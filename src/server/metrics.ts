/**
Prometheus metrics, one registry per app (so tests can run several apps in one
process). Sync state is read at scrape time from the same index the pages use.
*/
import {Counter, collectDefaultMetrics, Gauge, Histogram, Registry} from 'prom-client';
import {packageVersion} from '../meta.js';
import type {LockAge} from './lock-age.js';
import type {MirrorIndex} from './mirror-index.js';
import {perSnapshot} from './per-snapshot.js';
import {packageMetrics} from './registry/package-metrics.js';
import type {ScheduleInfo} from './schedule.js';
import type {BlockCacheStats} from './tree/block-cache.js';

/** The instruments the middleware updates. */
export type Metrics = {
	readonly registry: Registry;
	readonly requests: Counter<'route' | 'method' | 'status'>;
	readonly bytes: Counter<'route'>;
	readonly inFlight: Gauge;
	readonly downloads: Counter<'product' | 'version' | 'platform'>;
	/** Complete integration package zip downloads, by package name (only names the mirror holds). */
	readonly packageDownloads: Counter<'package'>;
	/** Count a complete download by an agent of this version (`none`: not an agent). */
	readonly countAgentDownload: (version: string) => void;
	readonly cachedAnswers: Counter<'route'>;
	readonly duration: Histogram<'route' | 'method'>;
};

/** Optional sources of the metrics. */
export type MetricsSources = {
	readonly schedule?: (() => ScheduleInfo) | undefined;
	readonly blockStats?: (() => BlockCacheStats) | undefined;
	readonly lockAge?: LockAge | undefined;
};

/**
`mirror_agent_downloads_total`, labelled only with versions the mirror holds (plus
`other` and `none`), so clients cannot grow the label set. Labelled when counted,
against what the mirror holds then: a label decided at scrape time would move counts
between `other` and a version as the mirror changes, and a counter that goes down
reads as a reset.
*/
function agentDownloadMetric(registry: Registry, index: MirrorIndex): (version: string) => void {
	const pending = new Set<Promise<void>>();
	const counter = new Counter({
		name: 'mirror_agent_downloads_total',
		help: 'Complete artifact downloads by the Elastic Agent version in User-Agent: versions the mirror holds, "other" for the rest, "none" for other clients',
		labelNames: ['agent_version'],
		registers: [registry],
		async collect() {
			// Downloads that finished just before the scrape are in it.
			await Promise.all(pending);
		},
	});
	return (version) => {
		if (version === 'none') {
			counter.inc({agent_version: 'none'});
			return;
		}

		const counted = index.snapshot().then(
			(snapshot) => {
				const held = perSnapshot(snapshot, 'version-set', () => new Set(snapshot.versions));
				counter.inc({agent_version: held.has(version) ? version : 'other'});
			},
			() => counter.inc({agent_version: 'other'}),
		);
		pending.add(counted);
		void counted.finally(() => pending.delete(counted));
	};
}

/** Gauges read from the last run's record and from the lock at scrape time. */
function runMetrics(registry: Registry, index: MirrorIndex, lockAge: LockAge | undefined): void {
	const lastRun = async () => (await index.snapshot()).status.lastRun;
	const gauges = [
		[
			'mirror_last_sync_failed_files',
			'Files the last sync run failed to publish',
			(run) => run.counts.failed,
		],
		['mirror_last_sync_downloaded_bytes', 'Bytes the last sync run downloaded', (run) => run.counts.bytes],
		[
			'mirror_last_sync_duration_seconds',
			'How long the last sync run took',
			(run) => Math.max(0, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000) || 0,
		],
	] as const satisfies ReadonlyArray<
		readonly [string, string, (run: NonNullable<Awaited<ReturnType<typeof lastRun>>>) => number]
	>;
	for (const [name, help, read] of gauges) {
		new Gauge({
			name,
			help: `${help} (0: never ran)`,
			registers: [registry],
			async collect() {
				const run = await lastRun();
				this.set(run ? read(run) : 0);
			},
		});
	}

	if (lockAge) {
		new Gauge({
			name: 'mirror_sync_lock_age_seconds',
			help: "How long the sync lock has been held (0: not held); far above a sync's duration means a stuck sync",
			registers: [registry],
			async collect() {
				this.set(await lockAge());
			},
		});
	}

	new Gauge({
		name: 'mirror_build_info',
		help: 'The running version of the mirror and of Node.js (always 1)',
		labelNames: ['version', 'node_version'],
		registers: [registry],
	}).set({version: packageVersion, node_version: process.version}, 1);
}

const agentPattern = /\bBeat elastic-agent v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\b/;

/**
The agent version in `User-Agent: Beat elastic-agent v<version>`, or `none`.
Only a well-formed version becomes a label, so clients cannot grow the label set
with made-up values beyond that shape.
*/
export function agentVersionOf(userAgent: string | undefined): string {
	const match = userAgent ? agentPattern.exec(userAgent) : null;
	return match?.[1] && match[1].length <= 40 ? match[1] : 'none';
}

/** The shared artifact blocks of an S3 replica, read at scrape time. */
function blockCacheMetrics(registry: Registry, stats: () => BlockCacheStats): void {
	new Gauge({
		name: 'mirror_s3_block_cache_pinned_bytes',
		help: 'Shared artifact blocks pinned now: being written to a client or read from the store (0 when idle)',
		registers: [registry],
		collect() {
			this.set(stats().pinnedBytes);
		},
	});
	new Gauge({
		name: 'mirror_s3_block_cache_bytes',
		help: 'Memory held by shared artifact blocks read from the store (cached, being read, or still being written)',
		registers: [registry],
		collect() {
			this.set(stats().bytes);
		},
	});
	const counters = [
		['mirror_s3_block_cache_hits_total', 'Artifact blocks answered from memory', 'hits'],
		['mirror_s3_block_cache_fetches_total', 'Artifact blocks read from the store', 'fetches'],
		[
			'mirror_s3_block_cache_refused_total',
			'Artifact blocks not cached for want of room (those downloads streamed from the store)',
			'refused',
		],
	] as const;
	for (const [name, help, field] of counters) {
		// Counters that only go up, reported as they stand at scrape time.
		new Counter({
			name,
			help,
			registers: [registry],
			collect() {
				this.reset();
				this.inc(stats()[field]);
			},
		});
	}
}

/** Create the registry and instruments (with `blockStats`, those of an S3 replica's blocks too). */
export function createMetrics(index: MirrorIndex, sources: MetricsSources = {}): Metrics {
	const {schedule, blockStats} = sources;
	const registry = new Registry();
	// Standard names (process_*, nodejs_*), as dashboards and alerts for Node.js expect them.
	collectDefaultMetrics({register: registry});
	runMetrics(registry, index, sources.lockAge);
	const seconds = (iso: string | undefined) => (iso ? new Date(iso).getTime() / 1000 : 0);
	new Gauge({
		name: 'mirror_last_sync_timestamp_seconds',
		help: 'When the last sync run finished (0: never)',
		registers: [registry],
		async collect() {
			this.set(seconds((await index.snapshot()).status.lastRun?.finishedAt));
		},
	});
	new Gauge({
		name: 'mirror_last_sync_success',
		help: '1 when the last sync run succeeded, 0 when it failed or never ran',
		registers: [registry],
		async collect() {
			this.set((await index.snapshot()).status.lastRun?.result === 'success' ? 1 : 0);
		},
	});
	new Gauge({
		name: 'mirror_last_successful_sync_timestamp_seconds',
		help: 'When the last successful sync run finished (0: never)',
		registers: [registry],
		async collect() {
			this.set(seconds((await index.snapshot()).status.lastSuccess?.finishedAt));
		},
	});
	if (schedule) {
		new Gauge({
			name: 'mirror_next_sync_timestamp_seconds',
			help: 'When the scheduled sync runs next (serve --sync-schedule)',
			registers: [registry],
			collect() {
				this.set((schedule().nextRun?.getTime() ?? 0) / 1000);
			},
		});
		new Gauge({
			name: 'mirror_scheduled_sync_running',
			help: '1 while a scheduled sync runs',
			registers: [registry],
			collect() {
				this.set(schedule().running ? 1 : 0);
			},
		});
	}

	new Gauge({
		name: 'mirror_artifacts',
		help: 'Artifacts the mirror holds',
		registers: [registry],
		async collect() {
			this.set((await index.snapshot()).byPath.size);
		},
	});
	new Gauge({
		name: 'mirror_artifact_bytes',
		help: 'Total size of the artifacts the mirror holds',
		registers: [registry],
		async collect() {
			this.set((await index.snapshot()).bytes);
		},
	});
	if (blockStats) {
		blockCacheMetrics(registry, blockStats);
	}

	return {
		registry,
		requests: new Counter({
			name: 'mirror_http_requests_total',
			help: 'HTTP requests by route, method and status',
			labelNames: ['route', 'method', 'status'],
			registers: [registry],
		}),
		bytes: new Counter({
			name: 'mirror_http_response_bytes_total',
			help: 'Response body bytes sent, by route',
			labelNames: ['route'],
			registers: [registry],
		}),
		inFlight: new Gauge({
			name: 'mirror_http_requests_in_flight',
			help: 'Requests being answered now',
			registers: [registry],
		}),
		downloads: new Counter({
			name: 'mirror_artifact_downloads_total',
			help: 'Complete artifact downloads (200, body fully sent), by artifact',
			labelNames: ['product', 'version', 'platform'],
			registers: [registry],
		}),
		packageDownloads: packageMetrics(registry, index),
		countAgentDownload: agentDownloadMetric(registry, index),
		duration: new Histogram({
			name: 'mirror_http_request_duration_seconds',
			help: 'Time from request to the end of the response (the whole download for files), by route and method',
			labelNames: ['route', 'method'],
			buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
			registers: [registry],
		}),
		cachedAnswers: new Counter({
			name: 'mirror_cached_answers_total',
			help: 'Pages and API answers served from what was rendered before for the same manifest, by route',
			labelNames: ['route'],
			registers: [registry],
		}),
	};
}

/** Read buffers held by file responses of a directory mirror, read at scrape time. */
export function streamBufferMetrics(registry: Registry, inUse: () => number): void {
	new Gauge({
		name: 'mirror_stream_buffers_in_use_bytes',
		help: 'Read buffers held by file responses being sent now (0 when idle)',
		registers: [registry],
		collect() {
			this.set(inUse());
		},
	});
}
