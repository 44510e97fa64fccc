/** The metrics of integration packages: how many versions the mirror holds, and downloads by package. */
import {Counter, Gauge, type Registry} from 'prom-client';
import type {MirrorIndex} from '../mirror-index.js';

/**
`mirror_package_versions`, read from the manifest at scrape time, and the download
counter (returned) that the registry routes count complete zips with.
*/
export function packageMetrics(registry: Registry, index: MirrorIndex): Counter<'package'> {
	new Gauge({
		name: 'mirror_package_versions',
		help: 'Integration package versions the mirror holds',
		registers: [registry],
		async collect() {
			this.set(Object.keys((await index.snapshot()).manifest.packages ?? {}).length);
		},
	});
	return packageDownloadCounter(registry);
}

/**
`mirror_package_downloads_total`: complete zip downloads, labelled only with names
of packages the mirror holds (the route answers 404 for the rest), so clients
cannot grow the label set.
*/
function packageDownloadCounter(registry: Registry): Counter<'package'> {
	return new Counter({
		name: 'mirror_package_downloads_total',
		help: 'Complete integration package zip downloads (200, body fully sent), by package',
		labelNames: ['package'],
		registers: [registry],
	});
}
