/** A mirror synced from a fake upstream and a real server on port 0 in front of it, torn down after the test. */

import type {ServeConfig} from '../../src/config/index.js';
import {type RunningServer, startServer} from '../../src/server/serve.js';
import {dirLocation} from '../../src/store/location.js';
import type {FakeUpstreamOptions} from './fake-upstream.js';
import type {TestKey} from './keys.js';
import {runSync, syncFlags} from './run.js';
import type {Teardown} from './teardown.js';
import {type WithUpstream, withUpstream} from './with-upstream.js';

/** Serve `dir` on 127.0.0.1 and a free port; no logs unless `overrides` ask. */
export async function withServer(
	t: Teardown,
	dir: string,
	overrides: Partial<ServeConfig> = {},
): Promise<RunningServer> {
	const running = await startServer(
		{
			location: dirLocation(dir),
			host: '127.0.0.1',
			port: 0,
			publicUrl: undefined,
			tls: undefined,
			trustProxy: false,
			drainTimeoutMs: 5000,
			accessLog: false,
			syncSchedule: undefined,
			...overrides,
		},
		undefined,
	);
	t.teardown(async () => {
		await running.shutdown();
	});
	return running;
}

/** What `withMirror` sets up. */
export type WithMirror = WithUpstream & {server: RunningServer; url: string};

/**
Start a fake upstream with `options`, sync all of its versions, products and
platforms into a new mirror, and serve it.
*/
export async function withMirror(
	t: Teardown,
	key: TestKey,
	options: Omit<FakeUpstreamOptions, 'key'>,
	extraFlags: Record<string, unknown> = {},
): Promise<WithMirror> {
	const setup = await withUpstream(t, key, options);
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
			versions: options.versions.join(','),
			products: (options.products ?? ['elastic-agent']).join(','),
			platforms: (options.platforms ?? ['linux-x86_64']).join(','),
			...(options.fips ? {fips: true} : {}),
			...extraFlags,
		}),
	);
	if (summary.result !== 'success') {
		throw new Error(`setup sync failed: ${JSON.stringify(summary.failed)}`);
	}

	const server = await withServer(t, setup.dir);
	return {...setup, server, url: server.url};
}
