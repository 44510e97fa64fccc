/**
Prometheus metrics, one registry per app (so tests can run several apps in one
process). Sync state is read at scrape time from the same index the pages use.
*/
import {Counter, collectDefaultMetrics, Gauge, Registry} from 'prom-client';
import type {BlockCacheStats} from './block-cache.js';
import type {MirrorIndex} from './mirror-index.js';
import type {ScheduleInfo} from './schedule.js';

/** The instruments the middleware updates. */
export type Metrics = {
	readonly registry: Registry;
	readonly requests: Counter<'route' | 'method' | 'status'>;
	readonly bytes: Counter<'route'>;
	readonly inFlight: Gauge;
	readonly downloads: Counter<'product' | 'version' | 'platform'>;
	readonly agentDownloads: Counter<'agent_version'>;
	readonly cachedAnswers: Counter<'route'>;
};

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
export function createMetrics(
	index: MirrorIndex,
	schedule?: () => ScheduleInfo,
	blockStats?: () => BlockCacheStats,
): Metrics {
	const registry = new Registry();
	collectDefaultMetrics({register: registry, prefix: 'mirror_'});
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
		agentDownloads: new Counter({
			name: 'mirror_agent_downloads_total',
			help: 'Complete artifact downloads by the Elastic Agent version in User-Agent ("none": not an agent)',
			labelNames: ['agent_version'],
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
