/** What route handlers share. */
import type {Context} from 'koa';
import type {JsonAnswers} from '../json-answer.js';
import type {Metrics} from '../metrics.js';
import type {MirrorIndex} from '../mirror-index.js';
import type {ScheduleInfo} from '../schedule.js';

/** Dependencies of the routes, built once per app. */
export type RouteDeps = {
	readonly index: MirrorIndex;
	readonly metrics: Metrics;
	/** The URL users reach this server at, without a trailing slash. */
	readonly publicUrl: (ctx: Context) => string;
	readonly schedule: (() => ScheduleInfo) | undefined;
	/** Large JSON answers, cached per snapshot and streamed when built. */
	readonly answers: JsonAnswers;
	/** Whether `/metrics` is served here (not when it has an address of its own). */
	readonly metricsOnMainPort: boolean;
	/** `serve --container-repository`: the flat names the page shows too. */
	readonly containerRepository?: string | undefined;
};
