/** Pulls through `/v2/`: manifests and blobs, by the repository's own (default) name. */
import type {Context} from 'koa';
import {Counter, type Registry} from 'prom-client';
import {whenClosed} from '../http/exchange.js';

/** The two pull counters. */
export type OciMetrics = {
	readonly manifestPulls: Counter<'repository'>;
	readonly blobPulls: Counter<'repository'>;
};

/**
`mirror_image_manifest_pulls_total` and `mirror_image_blob_pulls_total`, labelled only
with repositories the mirror holds (unknown names are answered 404 before counting),
so clients cannot grow the label set.
*/
export function ociMetrics(registry: Registry): OciMetrics {
	return {
		manifestPulls: new Counter({
			name: 'mirror_image_manifest_pulls_total',
			help: 'Manifests and indexes served by GET under /v2/ (200 or 206 sent whole, or 307 to the store), by repository',
			labelNames: ['repository'],
			registers: [registry],
		}),
		blobPulls: new Counter({
			name: 'mirror_image_blob_pulls_total',
			help: 'Blobs served by GET under /v2/ (200 or 206 sent whole, or 307 to the store), by repository',
			labelNames: ['repository'],
			registers: [registry],
		}),
	};
}

/** Count this GET in `counter` once its answer went out whole (200, 206 or a redirect). */
export function countPull(ctx: Context, counter: Counter<'repository'>, repository: string): void {
	if (ctx.method !== 'GET') {
		return;
	}

	whenClosed(ctx, () => {
		if ([200, 206, 307].includes(ctx.status) && ctx.res.writableFinished) {
			counter.inc({repository});
		}
	});
}
