/**
`/metrics` of `serve --workers N`: whichever worker is scraped answers for the
whole server. The primary gathers every worker's metrics as JSON and merges them
with prom-client's aggregator, by these rules:

- counters and histograms (requests, bytes, downloads, durations): summed;
- gauges of one process's state (requests in flight, read buffers, shared blocks):
  summed, so they describe the whole server;
- every other `mirror_*` gauge is read from the mirror (artifacts, last sync, lock
  age, schedule): the same in every worker, so the first worker's value is shown
  once rather than N times;
- Node's process metrics (`process_*`, `nodejs_*`: RSS, heap, CPU, event-loop lag)
  keep a `worker` label (`1`..`N`, and `primary`), one series per process: a sum
  of event-loop lags or heap limits means nothing, and a per-process view shows
  the one that grows. `sum(process_resident_memory_bytes)` is the whole server's RSS.
*/
import {AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Registry} from 'prom-client';

/** One metric of a registry, as getMetricsAsJSON gives it. */
export type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** Gauges of one process's state, summed across workers. */
const perProcessGauges = new Set([
	'mirror_http_requests_in_flight',
	'mirror_stream_buffers_in_use_bytes',
	'mirror_s3_block_cache_pinned_bytes',
	'mirror_s3_block_cache_bytes',
]);

/** Whether `name` is one of Node's process metrics, kept per process. */
function isProcessMetric(name: string): boolean {
	return name.startsWith('process_') || name.startsWith('nodejs_');
}

/**
The metrics of `registry` ready to be merged with those of the other processes:
process metrics labelled with `worker`, and each metric told how to merge.
*/
export async function metricsForMerge(registry: Registry, worker: string): Promise<MetricJson[]> {
	const metrics = await registry.getMetricsAsJSON();
	return metrics.map((metric) => {
		if (isProcessMetric(metric.name)) {
			// One series per process: nothing to sum, and `process_start_time_seconds`
			// (which prom-client would omit) stays.
			return {
				...metric,
				aggregator: 'sum',
				values: metric.values.map((value) => ({...value, labels: {...value.labels, worker}})),
			};
		}

		const type = String(metric.type);
		const mirrorWide = type === 'gauge' && !perProcessGauges.has(metric.name);
		return {...metric, aggregator: mirrorWide ? 'first' : 'sum'};
	});
}

/** The text exposition of the merged metrics of every process. */
export async function mergeMetrics(processes: readonly MetricJson[][]): Promise<string> {
	return AggregatorRegistry.aggregate([...processes]).metrics();
}

/** The primary's own metrics: its process, the workers listening and the restarts. */
export type PrimaryMetrics = {
	/** Count a worker started again after one died. */
	readonly restarted: () => void;
	/** The merged text of the workers' metrics (`parts`, from metricsForMerge) and the primary's. */
	readonly merge: (parts: readonly MetricJson[][]) => Promise<string>;
};

/** The primary's metrics; `listening` says how many workers listen now. */
export function primaryMetrics(listening: () => number): PrimaryMetrics {
	const registry = new Registry();
	collectDefaultMetrics({register: registry});
	new Gauge({
		name: 'mirror_workers',
		help: 'Worker processes listening now (serve --workers)',
		registers: [registry],
		collect() {
			this.set(listening());
		},
	});
	const restarts = new Counter({
		name: 'mirror_worker_restarts_total',
		help: 'Worker processes started again after one died',
		registers: [registry],
	});
	return {
		restarted: () => restarts.inc(),
		merge: async (parts) => mergeMetrics([...parts, await metricsForMerge(registry, 'primary')]),
	};
}
