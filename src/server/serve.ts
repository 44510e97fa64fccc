/**
The server's lifecycle: listen over HTTP or HTTPS, reload the certificate on
demand, and drain on shutdown (stop accepting, let in-flight downloads finish up
to a deadline, then close what is left).
*/
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type {AddressInfo} from 'node:net';
import tls from 'node:tls';
import type {Logger} from 'pino';
import type {ServeConfig} from '../config/serve.js';
import {MirrorError, UsageError} from '../errors.js';
import {makeDir} from '../store/modes.js';
import {openStore} from '../store/open.js';
import {createApp, type MirrorApp} from './app.js';
import {clashText, servedNames} from './oci/names.js';
import {type Schedule, type ScheduleInfo, startSchedule} from './schedule.js';
import {type ServedMirror, serveStore} from './served-mirror.js';

/** A listening server. */
export type RunningServer = {
	/** Where it listens, e.g. `http://localhost:8080`. */
	readonly url: string;
	readonly server: http.Server;
	readonly mirrorApp: MirrorApp;
	/** The in-process sync schedule, when configured. */
	readonly schedule: Schedule | undefined;
	/** Where `/metrics` is served when it has an address of its own (`--metrics-address`). */
	readonly metricsUrl?: string | undefined;
	/** Re-read the TLS certificate and key; throws (and keeps the old ones) when they are bad. */
	readonly reloadTls: () => Promise<void>;
	/**
	Stop accepting, wait for in-flight responses up to `drainTimeoutMs`, then close
	the rest. Resolves with how many connections had to be cut.
	*/
	readonly shutdown: () => Promise<{cut: number}>;
};

/**
Whether `key` is the private key of the first certificate in `cert`; undefined when
either does not parse (createSecureContext then says why). OpenSSL keeps one key per
type, so it takes an RSA key beside an EC certificate, and every handshake fails later.
*/
function keyMatches(cert: Buffer, key: Buffer): boolean | undefined {
	try {
		return new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
	} catch {
		return undefined;
	}
}

async function readTls(config: NonNullable<ServeConfig['tls']>): Promise<{cert: Buffer; key: Buffer}> {
	const [cert, key] = await Promise.all([readFile(config.certPath), readFile(config.keyPath)]);
	if (keyMatches(cert, key) === false) {
		throw new UsageError(`TLS key ${config.keyPath} does not match the certificate ${config.certPath}`);
	}

	try {
		tls.createSecureContext({cert, key});
	} catch (error) {
		throw new UsageError(
			`cannot use TLS certificate ${config.certPath} with key ${config.keyPath}: ${(error as Error).message}`,
		);
	}

	return {cert, key};
}

/** `/metrics` alone on its own address (plain HTTP; keep it on a private interface). */
async function startMetricsServer(
	mirrorApp: MirrorApp,
	address: {readonly host: string; readonly port: number},
): Promise<{server: http.Server; url: string}> {
	const {registry} = mirrorApp.metrics;
	const server = http.createServer((request, response) => {
		if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
			response.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'}).end('not found\n');
			return;
		}

		registry.metrics().then(
			(text) =>
				response
					.writeHead(200, {'Content-Type': registry.contentType, 'Cache-Control': 'no-store'})
					.end(text),
			() => response.writeHead(500).end('metrics failed\n'),
		);
	});
	const bound = await listen(server, address.port, address.host);
	const host = ['0.0.0.0', '::', ''].includes(address.host)
		? 'localhost'
		: bound.family === 'IPv6'
			? `[${bound.address}]`
			: address.host;
	return {server, url: `http://${host}:${bound.port}`};
}

function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
	return new Promise((resolve, reject) => {
		const onError = (error: NodeJS.ErrnoException) => {
			const reason =
				error.code === 'EADDRINUSE'
					? 'is already in use'
					: error.code === 'EACCES'
						? 'needs more privileges'
						: `failed (${error.code ?? error.message})`;
			reject(new MirrorError('ERR_LISTEN', `listening on ${host}:${port} ${reason}`, {cause: error}));
		};

		server.once('error', onError);
		server.listen(port, host, () => {
			server.off('error', onError);
			resolve(server.address() as AddressInfo);
		});
	});
}

/**
With `--container-repository`, two repositories holding the same tag under one flat
name cannot both be served: refused at start, with one line naming both.
*/
async function refuseNameClashes(
	mirror: ServedMirror,
	containerRepository: string | undefined,
): Promise<void> {
	if (containerRepository === undefined) {
		return;
	}

	const [clash] = servedNames((await mirror.index.snapshot()).manifest.images, containerRepository).clashes;
	if (clash) {
		throw new UsageError(clashText(clash, containerRepository));
	}
}

/** What a cluster worker changes in the server (cluster-worker.ts). */
export type ServeHooks = {
	/** The schedule another process runs (the primary): shown, never run here. */
	readonly schedule?: (() => ScheduleInfo) | undefined;
};

/** Start serving the mirror described by `config`. */
export async function startServer(
	config: ServeConfig,
	logger: Logger | undefined,
	accessLog: Logger | undefined = config.accessLog ? logger : undefined,
	hooks: ServeHooks = {},
): Promise<RunningServer> {
	const {location} = config;
	if (location.kind === 'dir') {
		// Serving an empty mirror is fine: the first sync fills it.
		await makeDir(location.dir);
	}

	const store = await openStore({location});
	let mirror: ServedMirror;
	try {
		mirror = await serveStore(store, {
			redirect: config.s3Redirect ?? false,
			refreshMs: config.indexRefreshMs ?? 5000,
			blockCacheBytes: config.s3BlockCacheBytes,
			workers: config.workers ?? 1,
			logger,
		});
	} catch (error) {
		store.close();
		throw error;
	}

	try {
		await refuseNameClashes(mirror, config.containerRepository);
	} catch (error) {
		mirror.close();
		throw error;
	}

	let draining = false;
	const schedule =
		config.syncSchedule && !hooks.schedule
			? startSchedule(config.syncSchedule.expression, config.syncSchedule.options, logger)
			: undefined;
	const mirrorApp = createApp({
		schedule: hooks.schedule ?? schedule?.info,
		mirror,
		publicUrl: config.publicUrl,
		trustProxy: config.trustProxy,
		// Without the access log, the app logs warnings and errors only (or less, at a higher --log-level).
		logger: accessLog ?? (logger && logger.levelVal < 40 ? logger.child({}, {level: 'warn'}) : logger),
		isDraining: () => draining,
		metricsOnMainPort: !config.metricsAddress,
		containerRepository: config.containerRepository,
	});
	const handler = mirrorApp.handler;
	const server: http.Server = config.tls
		? https.createServer(await readTls(config.tls), handler)
		: http.createServer(handler);
	// Slow clients on thin links may take hours for one artifact; only idle
	// keep-alive connections and slow request headers are timed out.
	server.requestTimeout = 60_000;
	server.headersTimeout = 30_000;
	let address: AddressInfo;
	try {
		address = await listen(server, config.port, config.host);
	} catch (error) {
		schedule?.stop();
		mirrorApp.close();
		throw error;
	}

	const shownHost = ['0.0.0.0', '::', ''].includes(config.host)
		? 'localhost'
		: address.family === 'IPv6'
			? `[${address.address}]`
			: config.host;
	const url = `${config.tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
	let metricsServer: http.Server | undefined;
	let metricsUrl: string | undefined;
	if (config.metricsAddress) {
		try {
			({server: metricsServer, url: metricsUrl} = await startMetricsServer(mirrorApp, config.metricsAddress));
		} catch (error) {
			server.close();
			schedule?.stop();
			mirrorApp.close();
			throw error;
		}
	}

	const connections = new Set<import('node:net').Socket>();
	server.on(config.tls ? 'secureConnection' : 'connection', (socket: import('node:net').Socket) => {
		connections.add(socket);
		socket.once('close', () => connections.delete(socket));
	});

	return {
		url,
		server,
		mirrorApp,
		metricsUrl,
		async reloadTls() {
			if (!config.tls) {
				return;
			}

			(server as https.Server).setSecureContext(await readTls(config.tls));
		},
		schedule,
		async shutdown() {
			draining = true;
			schedule?.stop();
			metricsServer?.close();
			metricsServer?.closeAllConnections();
			const closed = new Promise<void>((resolve) => {
				server.close(() => resolve());
			});
			// Connections that finish their response become idle and are closed
			// here, so the drain ends as soon as the last download does.
			const sweep = setInterval(() => server.closeIdleConnections(), 50);
			server.closeIdleConnections();
			let timer: NodeJS.Timeout | undefined;
			const deadline = new Promise<'timeout'>((resolve) => {
				timer = setTimeout(() => resolve('timeout'), config.drainTimeoutMs);
			});
			const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
			clearInterval(sweep);
			clearTimeout(timer);
			if (outcome === 'closed') {
				mirrorApp.close();
				return {cut: 0};
			}

			const cut = connections.size;
			server.closeAllConnections();
			for (const socket of connections) {
				socket.destroy();
			}

			await closed;
			mirrorApp.close();
			return {cut};
		},
	};
}
