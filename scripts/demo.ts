/**
`npm run demo`: the whole mirror on one machine, offline. Starts a local stand-in
for artifacts.elastic.co (generated artifacts with real sha512 sidecars and real
signatures by a throwaway key), syncs two versions from it into a temp folder,
and serves the result. Open the printed URL; Ctrl-C stops everything.
*/
import {rmSync} from 'node:fs';
import {mkdtemp} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {sync} from '../src/agent/sync.js';
import {loadServeConfig, loadSyncConfig} from '../src/config/index.js';
import {createLogger} from '../src/log.js';
import {type RunningServer, startServer} from '../src/server/serve.js';
import {type FakeUpstream, startFakeUpstream} from '../test/helpers/fake-upstream.js';
import {createTestKey} from '../test/helpers/keys.js';

const work = await mkdtemp(path.join(os.tmpdir(), 'artifact-mirror-demo-'));
let upstream: FakeUpstream | undefined;
let running: RunningServer | undefined;
let stopping = false;

// Removed synchronously: a signal cannot cut a synchronous removal short, so the
// folder is never left half-deleted.
const removeWork = () => rmSync(work, {recursive: true, force: true, maxRetries: 3});

/** Ctrl-C at any point (during the sync too): stop, remove the temp folder, exit. */
async function stop(): Promise<void> {
	if (stopping) {
		// A second Ctrl-C does not wait for downloads to drain, but still cleans up.
		removeWork();
		process.exit(0);
	}

	stopping = true;
	await running?.shutdown();
	await upstream?.close();
	removeWork();
	process.exit(0);
}

// Registered with `on`, not `once`: a second signal must reach stop(), not kill the process mid-clean-up.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => void stop());
}

const key = await createTestKey('Demo Upstream Signer');
upstream = await startFakeUpstream({
	key,
	versions: ['9.0.8', '9.1.2', '9.1.3', '9.2.0-SNAPSHOT'],
	products: ['elastic-agent', 'fleet-server'],
	platforms: ['linux-x86_64', 'linux-arm64', 'darwin-aarch64', 'windows-x86_64', 'deb-amd64'],
	fips: true,
	size: 2 * 1024 * 1024,
});
const keyPath = await key.writePublic(work, 'demo-key.asc');
const dir = path.join(work, 'artifacts');
const flags = {
	dir,
	upstream: upstream.url,
	'versions-api': `${upstream.url}/v1/versions`,
	'trusted-key': [keyPath],
	versions: '9.1.x,9.2.0-SNAPSHOT',
	products: 'elastic-agent,fleet-server',
	platforms: 'linux-x86_64,linux-arm64,darwin-aarch64,windows-x86_64,deb-amd64',
	fips: true,
};
const cwd = process.cwd();
console.log(`demo upstream at ${upstream.url}; syncing 9.1.x and 9.2.0-SNAPSHOT into ${dir} ...`);
const summary = await sync(loadSyncConfig({flags: flags as never, env: {}, cwd}).options, () => undefined);
console.log(
	`synced: ${summary.published} files published, ${summary.notPublished} not published upstream, ${summary.failed.length} failed`,
);

const port = process.env.PORT ?? '8080';
const serveConfig = loadServeConfig({flags: {dir, host: '127.0.0.1', port} as never, env: {}, cwd});
running = await startServer(serveConfig, createLogger(), undefined).catch(async (error: Error) => {
	console.log(`${error.message}; using a free port instead`);
	return startServer({...serveConfig, port: 0}, createLogger(), undefined);
});
console.log(`\nOpen ${running.url}/ in a browser.`);
console.log(
	`Try an agent-style download: curl -O ${running.url}/downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz`,
);
console.log('Ctrl-C to stop.\n');
