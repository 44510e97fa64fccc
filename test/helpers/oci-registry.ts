/**
A real upstream for the container image tests: Debian's `docker-registry` (the
CNCF distribution registry v2) on a free loopback port, storing into a throwaway
directory, without auth, and stopped with its whole process group at teardown.
The binaries are a prerequisite like the S3 server: without them the tests skip,
and under CI=true they fail (test/helpers/gate.ts).
*/
import {type ChildProcess, spawn} from 'node:child_process';
import {accessSync, constants, rmSync} from 'node:fs';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import net, {type AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type {Prerequisite} from './prerequisites.js';
import type {Teardown} from './teardown.js';

/** A running registry: `url` is `http://host`, `host` is what image references start with. */
export type RunningRegistry = {
	readonly url: string;
	readonly host: string;
	readonly port: number;
	/** Stop the registry and remove its storage; teardown calls it too, a second call does nothing. */
	stop(): Promise<void>;
};

/** Where `name` is on PATH, or undefined. */
export function findCommand(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
	for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
		const candidate = path.join(dir, name);
		try {
			accessSync(candidate, constants.X_OK);
			return candidate;
		} catch {
			// Not in this directory; the next one may have it.
		}
	}

	return undefined;
}

/**
Whether the image tests can run: Debian's `docker-registry` (the upstream) and
`skopeo` (the client) are installed. Starts nothing; pass the result to gatedTest.
*/
export async function ensureRegistry(): Promise<Prerequisite> {
	const missing = ['docker-registry', 'skopeo'].filter((name) => !findCommand(name));
	return missing.length === 0
		? {ok: true}
		: {ok: false, reason: `${missing.join(' and ')} not installed (apt-get install ${missing.join(' ')})`};
}

/** What a test may change about the registry it starts. */
export type RegistryOptions = {
	/** Extra lines appended to the generated config.yml (top-level YAML keys). */
	readonly extraConfig?: string;
	/** Settings given as `REGISTRY_<PATH>` variables, e.g. `REGISTRY_HTTP_RELATIVEURLS: 'true'`. */
	readonly env?: Readonly<Record<string, string>>;
};

/** A port nothing listens on right now: bind port 0, read it, let it go. */
async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	await new Promise<void>((resolve) => {
		server.close(() => resolve());
	});
	return port;
}

function configYaml(storage: string, port: number, extra = ''): string {
	// JSON strings are valid YAML scalars, which keeps odd temp paths quoted right.
	return [
		'version: 0.1',
		'log:',
		'  level: error',
		'  accesslog:',
		'    disabled: true',
		'storage:',
		'  filesystem:',
		`    rootdirectory: ${JSON.stringify(storage)}`,
		'  delete:',
		'    enabled: false',
		'http:',
		`  addr: 127.0.0.1:${port}`,
		extra,
		'',
	].join('\n');
}

/**
Registries still running. A detached child outlives its parent, so if a test
process ends without its teardown (an ava timeout, an uncaught error) the exit
hook below ends them and removes their storage: no leftovers then either.
*/
const running = new Map<number, string>();
let exitHookInstalled = false;

function track(pid: number, dir: string): void {
	running.set(pid, dir);
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.once('exit', () => {
			for (const [group, dir] of running) {
				try {
					process.kill(-group, 'SIGKILL');
				} catch {
					// Already gone.
				}

				rmSync(dir, {recursive: true, force: true});
			}
		});
	}
}

/** End the process group (detached spawn made the child its leader) and wait for the exit. */
async function killGroup(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
		return;
	}

	const exited = new Promise<void>((resolve) => {
		child.once('exit', () => resolve());
	});
	const signal = (name: NodeJS.Signals) => {
		try {
			process.kill(-(child.pid as number), name);
		} catch {
			// Already gone.
		}
	};

	signal('SIGTERM');
	// The registry drains connections on SIGTERM; a test must not wait on a slow client for that.
	const hard = setTimeout(() => signal('SIGKILL'), 3000);
	await exited;
	clearTimeout(hard);
}

/** Poll `GET /v2/` until it answers 200, the child exits, or 15 s pass. */
async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
	const deadline = Date.now() + 15_000;
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
		}

		try {
			const response = await fetch(`${url}/v2/`, {signal: AbortSignal.timeout(1000)});
			await response.arrayBuffer();
			if (response.status === 200) {
				return;
			}
		} catch {
			// Not listening yet.
		}

		await new Promise((resolve) => setTimeout(resolve, 50));
	}

	throw new Error(`docker-registry did not answer GET ${url}/v2/ within 15 s: ${stderr()}`);
}

async function startOnce(t: Teardown, options: RegistryOptions): Promise<RunningRegistry> {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'mirror-registry-'));
	const port = await freePort();
	const configPath = path.join(dir, 'config.yml');
	await writeFile(configPath, configYaml(path.join(dir, 'storage'), port, options.extraConfig));
	// Its own process group, so that stop reaches anything it forks and leaves nothing behind.
	const child = spawn(findCommand('docker-registry') ?? 'docker-registry', ['serve', configPath], {
		detached: true,
		stdio: ['ignore', 'ignore', 'pipe'],
		env: {...process.env, ...options.env},
	});
	if (child.pid !== undefined) {
		const pid = child.pid;
		track(pid, dir);
		child.once('exit', () => running.delete(pid));
	}

	let errors = '';
	child.stderr?.on('data', (chunk: Buffer) => {
		errors = (errors + chunk.toString()).slice(-2000);
	});
	let stopped: Promise<void> | undefined;
	const stop = () => {
		stopped ??= (async () => {
			await killGroup(child);
			await rm(dir, {recursive: true, force: true});
		})();
		return stopped;
	};

	t.teardown(stop);
	const url = `http://127.0.0.1:${port}`;
	try {
		await waitReady(url, child, () => errors.trim());
	} catch (error) {
		await stop();
		throw error;
	}

	return {url, host: `127.0.0.1:${port}`, port, stop};
}

/**
Start a registry for one test (or, with sharedTeardown, one file). The port is
picked before the registry binds it, so another process can take it between; a
start that fails is retried on a new port twice before the error is thrown.
*/
export async function startRegistry(t: Teardown, options: RegistryOptions = {}): Promise<RunningRegistry> {
	let lastError: unknown;
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			return await startOnce(t, options);
		} catch (error) {
			lastError = error;
		}
	}

	throw lastError;
}
