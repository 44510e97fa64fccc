/**
Argument parsing and dispatch. Turns argv into a command with validated config,
runs it, and maps the outcome to an exit code; nothing else. Over 300 lines
because the command table (descriptions, help texts, examples) is kept here,
next to the parsing that serves it; each command's work lives in its own module.
*/
import type {AddressInfo} from 'node:net';
import {Command, CommanderError} from 'commander';
import type {Logger} from 'pino';
import {
	type AnyOption,
	exportOptions,
	importOptions,
	loadServeConfig,
	loadSyncConfig,
	packagePathsOptions,
	pruneOptions,
	pushOptions,
	type ServeConfig,
	serveOptions,
	syncOptions,
	verifyOptions,
} from '../config/index.js';
import {describeError, LockHeldError, MirrorError, UsageError} from '../errors.js';
import {createLogger} from '../log.js';
import {packageVersion} from '../meta.js';
import type {ClusterServer} from '../server/cluster.js';
import {releaseHeldLocks} from '../store/held.js';
import {locationLabel} from '../store/location.js';
import type {Output} from './commands.js';
import {addConfigCommand} from './config-command.js';
import {addOptions, sourcesOf} from './options.js';
import {jsonReporter, type Reporter, textReporter, ttyReporter} from './report.js';

/** Exit codes, as the README documents them. */
export const exitCodes = {
	ok: 0,
	/** Some files failed; or the run could not finish. */
	failed: 1,
	/** Bad flags, environment or config file. */
	usage: 2,
	/** Another sync holds the lock. */
	locked: 3,
} as const;

/** What the process around the CLI provides; tests pass their own. */
export type CliContext = {
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly cwd: string;
	readonly stdoutIsTty: boolean;
	/** Progress bars of export, import and verify go to stderr. */
	readonly stderrIsTty?: boolean;
	/** Lets a signal handler release resources; set while a command runs. */
	onAbort?: () => Promise<void>;
	/** Takes over SIGINT, SIGTERM and SIGHUP while a long-running command (serve) runs. */
	onSignal?: (signal: NodeJS.Signals) => void;
};

function pickReporter(json: boolean | undefined, context: CliContext): Reporter {
	if (json ?? !context.stdoutIsTty) {
		return jsonReporter();
	}

	return context.stdoutIsTty ? ttyReporter() : textReporter();
}

async function runSync(command: Command, context: CliContext): Promise<number> {
	const config = loadSyncConfig(sourcesOf(command, syncOptions, context));
	const reporter = pickReporter(config.json, context);
	context.onAbort = async () => reporter.close();
	try {
		// Each command loads only its own modules: a sync run should not pay for the server's start-up.
		const {sync} = await import('../agent/sync.js');
		const summary = await sync(config.options, reporter.emit);
		return summary.result === 'success' ? exitCodes.ok : exitCodes.failed;
	} catch (error) {
		if (error instanceof UsageError) {
			throw error;
		}

		reporter.error(describeError(error), error instanceof MirrorError ? error.code : 'ERR_INTERNAL');
		return error instanceof LockHeldError ? exitCodes.locked : exitCodes.failed;
	} finally {
		reporter.close();
	}
}

/** One process (`--workers 1`) or a cluster's primary, in the one shape serve's command drives. */
async function startServing(
	config: ServeConfig,
	logger: Logger,
): Promise<ClusterServer | {readonly exitCode: number}> {
	if ((config.workers ?? 1) > 1) {
		const {startCluster} = await import('../server/cluster.js');
		return startCluster(config, logger);
	}

	const {startServer} = await import('../server/serve.js');
	const running = await startServer(config, logger);
	return {
		url: running.url,
		metricsUrl: running.metricsUrl,
		address: running.server.address() as AddressInfo,
		reloadTls: running.reloadTls,
		shutdown: (draining) => {
			draining();
			return running.shutdown();
		},
		closeAllConnections: () => running.server.closeAllConnections(),
		failed: new Promise(() => undefined),
	};
}

async function runServe(command: Command, context: CliContext): Promise<number> {
	if ((await import('node:cluster')).default.isWorker) {
		// A worker of serve --workers: the primary read the config and takes the signals.
		context.onSignal = () => undefined;
		const {runWorker} = await import('../server/cluster-worker.js');
		return runWorker();
	}

	const config = loadServeConfig(sourcesOf(command, serveOptions, context));
	const logger = createLogger(1, {format: config.logFormat, level: config.logLevel});
	const running = await startServing(config, logger);
	if ('exitCode' in running) {
		return running.exitCode;
	}

	const source = locationLabel(config.location);
	const urlFile = config.urlFile;
	if (urlFile) {
		const {localUrl, writeUrlFile} = await import('./healthcheck.js');
		await writeUrlFile(urlFile, localUrl(running.address, Boolean(config.tls))).catch((error: unknown) =>
			logger.warn({msg: `cannot write --url-file ${urlFile}: ${describeError(error)}`}),
		);
	}

	const workers = config.workers ?? 1;
	logger.info({
		msg: `serving ${source} at ${running.url}${workers > 1 ? ` with ${workers} workers` : ''}${config.s3Redirect ? ' (artifact downloads redirect to the store)' : ''}`,
		url: running.url,
		dir: source,
		tls: Boolean(config.tls),
		publicUrl: config.publicUrl ?? null,
		...(workers > 1 ? {workers} : {}),
		...(running.metricsUrl ? {metricsUrl: `${running.metricsUrl}/metrics`} : {}),
	});
	const removeUrlFile = async () => {
		if (urlFile) {
			const {removeUrlFile} = await import('./healthcheck.js');
			await removeUrlFile(urlFile).catch(() => undefined);
		}
	};

	return new Promise((resolve) => {
		let stopping = false;
		void running.failed.then(async (line) => {
			// The workers keep dying: nothing is served any more.
			await removeUrlFile();
			process.stderr.write(`error: ${line}\n`);
			resolve(exitCodes.failed);
		});
		context.onSignal = (signal) => {
			if (signal === 'SIGHUP') {
				running.reloadTls().then(
					() =>
						logger.info({msg: config.tls ? 'TLS certificate reloaded' : 'SIGHUP ignored: not serving TLS'}),
					(error: unknown) =>
						logger.error({msg: `TLS reload failed, keeping the old certificate: ${describeError(error)}`}),
				);
				return;
			}

			if (stopping) {
				logger.warn({msg: `${signal} again: closing every connection now`});
				running.closeAllConnections();
				return;
			}

			stopping = true;
			// A scheduled sync under way gives its lock back at once (after its write
			// under way; it writes nothing more), so the next holder on any host need
			// not wait for the lease to run out.
			const drained = running.shutdown(() =>
				logger.info({msg: `${signal}: draining (up to ${config.drainTimeoutMs / 1000} s)`}),
			);
			void Promise.all([drained, releaseHeldLocks()]).then(async ([{cut}]) => {
				await removeUrlFile();
				logger.info({msg: cut > 0 ? `stopped; cut ${cut} unfinished connections` : 'stopped', cut});
				resolve(exitCodes.ok);
			});
		};
	});
}

/** Lines to stdout, or to stderr when stdout carries a bundle. */
function outputFor(context: CliContext, toStderr = false): Output {
	const stream = toStderr ? process.stderr : process.stdout;
	return {line: (text) => stream.write(`${text}\n`), progress: Boolean(context.stderrIsTty)};
}

/** Build the command tree. `run` receives the chosen command's exit code. */
export function createProgram(context: CliContext, done: (code: number) => void): Command {
	const program = new Command('artifact-mirror')
		.description('Mirror and serve Elastic Agent artifacts for air-gapped networks.')
		.version(packageVersion)
		// Program options only before a command: `sync --version 9.1.3` is then a typo
		// of --versions (exit 2), not a request for the program's version (exit 0).
		.enablePositionalOptions()
		.showSuggestionAfterError(true)
		.exitOverride();

	const commands: Array<{
		name: string;
		description: string;
		help: string;
		defs: readonly AnyOption[];
		args?: string;
		run: (command: Command, context: CliContext) => Promise<number>;
	}> = [
		{
			name: 'sync',
			description:
				'Download the selected versions, products and platforms from upstream with their .sha512 and .asc, ' +
				'verify them, and publish them atomically into the mirror tree.',
			help:
				'\nExit codes: 0 all selected files present and verified (warnings allowed), 1 some files failed,\n' +
				'2 bad usage or config, 3 another sync holds the lock.\n\n' +
				'Examples:\n' +
				'  artifact-mirror sync --versions latest\n' +
				'  artifact-mirror sync --versions "9.1.x,>=8.18.0 <9" --platforms linux-x86_64,windows-x86_64,deb-amd64\n' +
				'  artifact-mirror sync --versions latest --products elastic-agent,fleet-server --dry-run',
			defs: syncOptions,
			run: runSync,
		},
		{
			name: 'serve',
			description:
				'Serve the mirror tree at upstream paths (the --source-uri target), a browsable catalogue, ' +
				'an API and metrics.',
			help:
				'\nSignals: SIGTERM/SIGINT drain in-flight downloads (up to --drain-timeout) and exit 0;\n' +
				'SIGHUP re-reads the TLS certificate and key.\n\n' +
				'Exit codes: 0 stopped by a signal, 1 could not listen, 2 bad usage or config.\n\n' +
				'Examples:\n' +
				'  artifact-mirror serve\n' +
				'  artifact-mirror serve --port 8443 --tls-cert cert.pem --tls-key key.pem --public-url https://mirror.example.internal:8443',
			defs: serveOptions,
			run: runServe,
		},
		{
			name: 'export',
			description:
				'Write the mirror, or a selection, as one self-describing tar bundle (artifacts, sidecars, keys and a ' +
				'manifest with every size and sha512) to carry across an air gap.',
			help:
				'\nExit codes: 0 written, 1 failed (nothing left behind), 2 bad usage, 3 a sync holds the lock.\n\n' +
				'Examples:\n' +
				'  artifact-mirror export --out /media/usb/elastic-2026-11.tar\n' +
				'  artifact-mirror export --out /media/dvd/bundle.tar --split-size 4G --since last\n' +
				'  artifact-mirror export --out - --versions 9.1.x --platforms linux-x86_64 | ssh inside artifact-mirror import -',
			defs: exportOptions,
			run: async (command, context) => {
				const sources = sourcesOf(command, exportOptions, context);
				const {runExport} = await import('./commands.js');
				return runExport(sources, outputFor(context, sources.flags.out === '-'));
			},
		},
		{
			name: 'import',
			description:
				'Load a bundle (all its parts) into the mirror: every file checked against the bundle manifest, every ' +
				'artifact against its .sha512 and signature, then published atomically. A bad bundle changes nothing.',
			help:
				'\nExit codes: 0 imported (or already present), 1 the bundle was rejected, 2 bad usage, 3 locked.\n\n' +
				'Examples:\n' +
				'  artifact-mirror import /media/usb/elastic-2026-11.tar\n' +
				'  artifact-mirror import /media/dvd/bundle.tar.001   (finds .002, .003, ... next to it)',
			defs: importOptions,
			args: '<files...>',
			run: async (command, context) => {
				const {runImport} = await import('./commands.js');
				return runImport(sourcesOf(command, importOptions, context), command.args, outputFor(context));
			},
		},
		{
			name: 'verify',
			description:
				'Re-hash every artifact and re-check its .sha512 and signature, and the key files; report each problem. ' +
				'--repair fetches bad files again (or leaves them quarantined when the upstream is unreachable).',
			help: '\nExit codes: 0 all good (or all repaired), 1 problems remain, 2 bad usage, 3 a sync holds the lock.',
			defs: verifyOptions,
			run: async (command, context) => {
				const {runVerify} = await import('./commands.js');
				return runVerify(sourcesOf(command, verifyOptions, context), outputFor(context));
			},
		},
		{
			name: 'prune',
			description:
				'Retention: delete artifacts (with their sidecars) that the rules do not keep. Prints what it would ' +
				'delete unless --yes. Never deletes a key file; takes the sync lock.',
			help:
				'\nExamples:\n' +
				'  artifact-mirror prune --keep-latest 2            (newest 2 patch versions of each major.minor)\n' +
				'  artifact-mirror prune --keep-versions ">=9.0.0" --yes\n' +
				'  artifact-mirror prune --unselected --yes         (what mirror.yml no longer selects)',
			defs: pruneOptions,
			run: async (command, context) => {
				const {runPrune} = await import('./commands.js');
				return runPrune(sourcesOf(command, pruneOptions, context), outputFor(context));
			},
		},
		{
			name: 'package-paths',
			description:
				'Write every integration package version of the mirror (<name>-<version>.zip and .zip.sig, checked ' +
				"against the manifest) into a folder Elastic's own registry loads, and print its package_paths lines.",
			help:
				'\nExit codes: 0 written, 1 failed (a file did not match the manifest), 2 bad usage, 3 a sync holds the lock.\n\n' +
				'Examples:\n' +
				'  artifact-mirror package-paths --out /srv/epr/packages\n' +
				'  artifact-mirror package-paths --store s3://mirror/elastic --out ./packages',
			defs: packagePathsOptions,
			run: async (command, context) => {
				const {runPackagePaths} = await import('./commands.js');
				return runPackagePaths(sourcesOf(command, packagePathsOptions, context), outputFor(context));
			},
		},
		{
			name: 'push-images',
			description:
				'Copy the mirrored container images into an existing registry (Harbor, the CNCF registry, Artifactory) ' +
				'under the names ECK pulls; an index the mirror holds only some platforms of is reduced to those (a new digest).',
			help:
				'\nCredentials come from REGISTRY_AUTH_FILE or $DOCKER_CONFIG/config.json (else ~/.docker/config.json), as for\n' +
				'sync. Blobs the registry has are skipped; a tag already at the digest is left as it is.\n\n' +
				'Exit codes: 0 every tag pushed, 1 a tag failed (the others are pushed), 2 bad usage, 3 a sync holds the lock.\n\n' +
				'Examples:\n' +
				'  artifact-mirror push-images --to https://registry.example.internal\n' +
				'  artifact-mirror push-images --to https://harbor.example.internal --container-repository elastic\n' +
				'      (then run ECK with --container-registry harbor.example.internal --container-repository elastic)\n' +
				'  artifact-mirror push-images --store s3://mirror/elastic --to http://127.0.0.1:5000 --dry-run',
			defs: pushOptions,
			run: async (command, context) => {
				const {runPushImages} = await import('./push-images.js');
				return runPushImages(sourcesOf(command, pushOptions, context), outputFor(context));
			},
		},
		{
			name: 'healthcheck',
			description:
				'Ask the server on this host whether it is alive (GET /healthz): exit 0 when it answers 200. ' +
				'For container health checks.',
			help:
				"\nReads serve's options (config file, environment, flags). With --url-file (MIRROR_URL_FILE, set in the\n" +
				'image) it asks the URL serve left in that file, so TLS and any --port work without repeating them.\n\n' +
				'Exit codes: 0 healthy, 1 unhealthy or not configured (never 2, which Docker reserves).\n\n' +
				'Examples:\n' +
				'  artifact-mirror healthcheck\n' +
				'  artifact-mirror healthcheck --port 8443 --tls-cert cert.pem --tls-key key.pem',
			defs: serveOptions,
			run: async (command, context) => {
				const {runHealthcheck} = await import('./healthcheck.js');
				return runHealthcheck(sourcesOf(command, serveOptions, context));
			},
		},
	];
	for (const spec of commands) {
		const command = program
			.command(spec.name)
			.description(spec.description)
			.exitOverride()
			.addHelpText('after', spec.help);
		if (spec.args) {
			command.argument(spec.args);
		}

		addOptions(command, spec.defs);
		command.action(async () => {
			done(await spec.run(command, context));
		});
	}

	addConfigCommand(program, context, done);
	return program;
}

/**
Run the CLI with `argv` (without node and script). Resolves with the exit code;
prints one line for usage errors.
*/
export async function main(argv: readonly string[], context: CliContext): Promise<number> {
	let code: number = exitCodes.ok;
	const program = createProgram(context, (result) => {
		code = result;
	});
	let commanderMessage = '';
	const capture = (command: Command) => {
		command.configureOutput({writeErr: (text) => (commanderMessage += text)});
		command.commands.forEach(capture);
	};
	capture(program);

	try {
		if (argv.length === 0) {
			program.outputHelp();
			return exitCodes.usage;
		}

		await program.parseAsync([...argv], {from: 'user'});
		return code;
	} catch (error) {
		if (error instanceof CommanderError) {
			if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
				return exitCodes.ok;
			}

			// `help` and `help sync`: help was asked for, so it is not an error.
			if (error.code === 'commander.help' && error.exitCode === 0) {
				return exitCodes.ok;
			}

			// `help nosuch`: commander prints the whole help as its error; say what was wrong.
			if (error.code === 'commander.help') {
				process.stderr.write(`error: unknown command '${argv[1] ?? ''}' (artifact-mirror help lists them)\n`);
				return exitCodes.usage;
			}

			// The same words whether the value is missing at the end or before another option.
			const missingValue = /option '(--[\w-]+)/.exec(error.message)?.[1];
			if (error.code === 'commander.optionMissingArgument' && missingValue) {
				process.stderr.write(`error: option ${missingValue} needs a value\n`);
				return exitCodes.usage;
			}

			// Commander's message and its "Did you mean" hint, on one line.
			const line = commanderMessage
				.trim()
				.replace(/\s*\n\s*/g, ' ')
				.replace(/^error: /, '');
			process.stderr.write(`error: ${line || error.message}\n`);
			return exitCodes.usage;
		}

		if (error instanceof UsageError) {
			process.stderr.write(`error: ${error.message}\n`);
			return exitCodes.usage;
		}

		if (error instanceof LockHeldError) {
			process.stderr.write(`error: ${error.message}\n`);
			return exitCodes.locked;
		}

		process.stderr.write(`error: ${describeError(error)}\n`);
		return exitCodes.failed;
	}
}
