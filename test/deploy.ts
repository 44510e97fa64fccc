import {spawnSync} from 'node:child_process';
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import test, {type ExecutionContext} from 'ava';
import YAML from 'yaml';
import {loadServeConfig, loadSyncConfig} from '../src/config/index.js';
import {dirOf, s3Of} from './helpers/location.js';
import {runCli, startCli} from './helpers/run.js';
import {tempDir} from './helpers/temp.js';
import {createCertificates} from './helpers/tls.js';

// No Docker engine runs here, so the Dockerfile and manifests are checked for the
// properties that matter, and the image's health check command is run for real.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

type Instruction = {readonly keyword: string; readonly args: string};

async function dockerfile(): Promise<Instruction[]> {
	const text = (await read('Dockerfile')).replace(/\\\n/g, ' ');
	return text
		.split('\n')
		.map((line) => line.trim())
		.filter((line) => line !== '' && !line.startsWith('#'))
		.map((line) => {
			const [keyword = '', ...rest] = line.split(/\s+/);
			return {keyword: keyword.toUpperCase(), args: rest.join(' ')};
		});
}

test('Dockerfile: multi-stage on a Node LTS, production dependencies only, non-root, volume, port, entrypoint', async (t) => {
	const instructions = await dockerfile();
	const stages = instructions.filter((instruction) => instruction.keyword === 'FROM');
	t.true(stages.length >= 2, 'multi-stage');
	const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1) as Instruction));
	const base = /^node:(\d+)/.exec(stages.at(-1)?.args ?? '');
	t.truthy(base);
	t.true(Number(base?.[1]) >= 24 && Number(base?.[1]) % 2 === 0, 'an even (LTS) Node major');
	t.true(
		instructions.some((i) => i.keyword === 'RUN' && /npm prune --omit=dev|npm ci .*--omit=dev/.test(i.args)),
	);
	const user = finalStage.filter((i) => i.keyword === 'USER').at(-1);
	t.truthy(user);
	t.false(['root', '0'].includes(String(user?.args)));
	t.true(finalStage.some((i) => i.keyword === 'VOLUME' && i.args.includes('/artifacts')));
	t.true(finalStage.some((i) => i.keyword === 'EXPOSE' && i.args === '8080'));
	t.deepEqual(JSON.parse(finalStage.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? 'null'), [
		'artifact-mirror',
	]);
	t.deepEqual(JSON.parse(finalStage.find((i) => i.keyword === 'CMD')?.args ?? 'null'), ['serve']);
	const ignore = await read('.dockerignore');
	for (const entry of ['node_modules', 'artifacts', '.git']) {
		t.true(ignore.split('\n').includes(entry), `.dockerignore: ${entry}`);
	}

	// The entrypoint links to the built CLI, which npm ci's prepare step produces.
	const cli = await stat(path.join(root, 'dist', 'cli', 'index.js'));
	t.true((cli.mode & 0o111) !== 0);
});

test('Dockerfile layers: dependencies from the lock file only, before any source; OCI labels', async (t) => {
	const instructions = await dockerfile();
	const stages: Instruction[][] = [];
	for (const instruction of instructions) {
		if (instruction.keyword === 'FROM') {
			stages.push([]);
		}

		stages.at(-1)?.push(instruction);
	}

	const installing = stages.filter((stage) =>
		stage.some((i) => i.keyword === 'RUN' && /npm ci/.test(i.args)),
	);
	t.is(installing.length, 2, 'a production-dependency stage and a build stage');
	for (const stage of installing) {
		const install = stage.findIndex((i) => i.keyword === 'RUN' && /npm ci/.test(i.args));
		const copiesBefore = stage.slice(0, install).filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
		t.deepEqual(
			copiesBefore.map((i) => i.args),
			['package.json package-lock.json ./'],
			'only the manifests before npm ci: a source change keeps the installed layer',
		);
		t.regex(stage[install]?.args ?? '', /--ignore-scripts/);
	}

	const build = installing.find((stage) => stage.some((i) => i.keyword === 'COPY' && /^src /.test(i.args)));
	t.truthy(build);
	const buildRun = build?.findIndex((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)) ?? -1;
	t.true(buildRun > (build?.findIndex((i) => i.keyword === 'COPY' && /^src /.test(i.args)) ?? 0));

	// The final image: production node_modules from the deps stage, then dist/.
	const final = stages.at(-1) ?? [];
	const depsName = /AS (\w+)/i.exec(installing.find((stage) => stage !== build)?.[0]?.args ?? '')?.[1];
	const copies = final.filter((i) => i.keyword === 'COPY').map((i) => i.args);
	t.true(copies.indexOf(`--from=${depsName} /app/node_modules ./node_modules`) >= 0, copies.join('; '));
	t.true(
		copies.findIndex((args) => args.includes('node_modules')) <
			copies.findIndex((args) => args.includes('dist')),
	);

	const pkg = JSON.parse(await read('package.json')) as {version: string; license: string; name: string};
	const labels = new Map(
		[
			...final
				.filter((i) => i.keyword === 'LABEL')
				.map((i) => i.args)
				.join(' ')
				.matchAll(/([\w.]+)="([^"]*)"/g),
		].map((match) => [match[1], match[2]]),
	);
	t.is(labels.get('org.opencontainers.image.title'), pkg.name);
	t.is(labels.get('org.opencontainers.image.version'), pkg.version, 'the label follows package.json');
	t.is(labels.get('org.opencontainers.image.licenses'), pkg.license);
	t.truthy(labels.get('org.opencontainers.image.description'));
	for (const name of ['revision', 'created']) {
		t.true(labels.has(`org.opencontainers.image.${name}`), name);
	}
});

/** The Dockerfile's final-stage ENV, as the container's environment. */
function imageEnv(instructions: Instruction[]): Record<string, string> {
	const env: Record<string, string> = {};
	for (const instruction of instructions.filter((i) => i.keyword === 'ENV')) {
		for (const match of instruction.args.matchAll(/(\w+)=(\S+)/g)) {
			env[match[1] as string] = match[2] as string;
		}
	}

	return env;
}

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** `serve` as a container would run it: the image's environment plus `args`. */
async function serveLike(t: ExecutionContext, env: Record<string, string>, args: string[]) {
	const cli = startCli(['serve', '--dir', await tempDir(t), ...args], {env});
	t.teardown(() => {
		cli.child.kill('SIGKILL');
	});
	const deadline = Date.now() + 30_000;
	while (!cli.stdoutSoFar().includes('"url"')) {
		if (cli.child.exitCode !== null || Date.now() > deadline) {
			throw new Error(`serve did not start: ${(await cli.result).stderr}`);
		}

		await delay(50);
	}

	return cli;
}

test('Dockerfile HEALTHCHECK is artifact-mirror healthcheck: healthy with TLS, --port and port 0, unhealthy when down', async (t) => {
	const instructions = await dockerfile();
	const healthcheck = instructions.find((instruction) => instruction.keyword === 'HEALTHCHECK');
	t.truthy(healthcheck);
	const command = JSON.parse(
		healthcheck?.args.slice(healthcheck.args.indexOf('CMD') + 3).trim() ?? '[]',
	) as string[];
	t.false(command.some((part) => /curl|wget/.test(part)));
	t.deepEqual(command, ['artifact-mirror', 'healthcheck']);
	const env = imageEnv(instructions);
	t.is(env.MIRROR_PORT, '8080');
	t.truthy(env.MIRROR_URL_FILE);

	// The health check runs beside serve with the image's environment only: it sees
	// neither serve's flags nor its port, so serve leaves its URL in MIRROR_URL_FILE.
	const dir = await tempDir(t);
	createCertificates(dir);
	const check = async (checkEnv: Record<string, string>) => {
		const result = await runCli(command.slice(1), {env: checkEnv});
		return {code: result.code, output: (result.stdout + result.stderr).trim()};
	};
	const tlsArgs = ['--tls-cert', path.join(dir, 'server.pem'), '--tls-key', path.join(dir, 'server.key')];
	const cases: Array<[string, string[]]> = [
		['TLS on a custom --port', ['--host', '127.0.0.1', '--port', String(await freePort()), ...tlsArgs]],
		['plain HTTP on --port 0', ['--port', '0']],
		['TLS, all interfaces', ['--port', String(await freePort()), ...tlsArgs]],
	];
	for (const [name, args] of cases) {
		const urlFile = path.join(dir, `${name.replace(/\W+/g, '-')}.url`);
		const containerEnv = {...env, MIRROR_URL_FILE: urlFile};
		const serving = await serveLike(t, containerEnv, args);
		const healthy = await check(containerEnv);
		t.is(healthy.code, 0, `${name}: ${healthy.output}`);
		t.regex(healthy.output, /^ok https?:\/\/127\.0\.0\.1:\d+\/healthz$/, name);
		t.is(healthy.output.startsWith('ok https:'), args.includes('--tls-cert'), name);

		serving.child.kill('SIGTERM');
		await serving.result;
		// Its URL file is gone with it; the image's port 8080 may be taken on this
		// machine (npm run demo), so the fallback asks a port nothing listens on.
		const down = await check({...containerEnv, MIRROR_PORT: String(await freePort())});
		t.is(down.code, 1, `${name} stopped: ${down.output}`);
		t.is(down.output.split('\n').length, 1, down.output);
		t.regex(down.output, /^unhealthy: /);
	}

	// Without the URL file, the same environment and config file serve reads.
	const port = String(await freePort());
	const viaEnv = {
		MIRROR_PORT: port,
		MIRROR_HOST: '127.0.0.1',
		MIRROR_TLS_CERT: path.join(dir, 'server.pem'),
		MIRROR_TLS_KEY: path.join(dir, 'server.key'),
	};
	await serveLike(t, viaEnv, []);
	const fromEnv = await check(viaEnv);
	t.is(fromEnv.code, 0, fromEnv.output);
	t.is(fromEnv.output, `ok https://127.0.0.1:${port}/healthz`);
});

test('Kubernetes: Deployment with probes and a non-root user, Service, PVC, CronJob with concurrencyPolicy Forbid', async (t) => {
	const documents = YAML.parseAllDocuments(await read('scripts/k8s/mirror.yaml')).map((document) =>
		document.toJS(),
	);
	const byKind = (kind: string) => documents.find((document) => document.kind === kind);
	const deployment = byKind('Deployment');
	const pod = deployment.spec.template.spec;
	const container = pod.containers[0];
	t.is(container.args[0], 'serve');
	t.is(container.livenessProbe.httpGet.path, '/healthz');
	t.is(container.readinessProbe.httpGet.path, '/readyz');
	t.true(pod.securityContext.runAsNonRoot);
	t.truthy(byKind('Service'));
	t.truthy(byKind('PersistentVolumeClaim'));
	const cronJob = byKind('CronJob');
	t.is(cronJob.spec.concurrencyPolicy, 'Forbid');
	const job = cronJob.spec.jobTemplate.spec.template.spec;
	t.is(job.containers[0].args[0], 'sync');
	t.true(job.securityContext.runAsNonRoot);

	// The config both read is one the loader accepts.
	const dir = await tempDir(t);
	await writeFile(path.join(dir, 'mirror.yml'), byKind('ConfigMap').data['mirror.yml']);
	const config = loadServeConfig({flags: {config: path.join(dir, 'mirror.yml')} as never, env: {}, cwd: dir});
	t.is(dirOf(config), '/artifacts');
	t.is(config.publicUrl, 'https://artifacts.example.internal');
});

test('Kubernetes, S3 mode: stateless replicas without volumes, credentials from a Secret, a sync CronJob', async (t) => {
	const documents = YAML.parseAllDocuments(await read('scripts/k8s/mirror-s3.yaml')).map((document) =>
		document.toJS(),
	);
	const byKind = (kind: string) => documents.find((document) => document.kind === kind);
	const deployment = byKind('Deployment');
	t.true(deployment.spec.replicas >= 2);
	const pod = deployment.spec.template.spec;
	t.deepEqual(
		pod.volumes.map((volume: {name: string}) => volume.name),
		['config'],
		'no data volume: the bucket is the storage',
	);
	const container = pod.containers[0];
	t.is(container.args[0], 'serve');
	t.is(container.envFrom[0].secretRef.name, byKind('Secret').metadata.name);
	t.is(container.readinessProbe.httpGet.path, '/readyz');
	const cronJob = byKind('CronJob');
	t.is(cronJob.spec.concurrencyPolicy, 'Forbid');
	const job = cronJob.spec.jobTemplate.spec.template.spec;
	t.is(job.containers[0].args[0], 'sync');
	t.is(job.containers[0].envFrom[0].secretRef.name, byKind('Secret').metadata.name);
	t.true(
		job.volumes.some((volume: {emptyDir?: unknown}) => volume.emptyDir),
		'a scratch folder for downloads',
	);

	const dir = await tempDir(t);
	await writeFile(path.join(dir, 'mirror.yml'), byKind('ConfigMap').data['mirror.yml']);
	const env = byKind('Secret').stringData;
	const config = loadServeConfig({flags: {config: path.join(dir, 'mirror.yml')} as never, env, cwd: dir});
	t.like(s3Of(config), {bucket: 'elastic-artifacts', prefix: 'mirror/', pathStyle: true});
	t.is(s3Of(config)?.credentials?.accessKeyId, 'change-me');
	t.is(config.s3BlockCacheBytes, 64 * 1024 * 1024);
	const sync = loadSyncConfig({flags: {config: path.join(dir, 'mirror.yml')} as never, env, cwd: dir});
	t.is(s3Of(sync.options)?.bucket, 'elastic-artifacts');
});

test('systemd units and the crontab example run the real commands, found on the PATH; exit 3 is not swallowed', async (t) => {
	const serve = await read('scripts/systemd/artifact-mirror.service');
	t.regex(serve, /^ExecStart=.*artifact-mirror serve/m);
	t.regex(serve, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
	const sync = await read('scripts/systemd/artifact-mirror-sync.service');
	t.regex(sync, /^ExecStart=.*artifact-mirror sync/m);
	// A sync that finds the lock held fails the unit, where monitoring sees it.
	t.notRegex(sync, /^SuccessExitStatus=.*\b3\b/m);
	for (const unit of [serve, sync]) {
		t.regex(unit, /npm install -g \./, 'each unit says how artifact-mirror gets on the PATH');
	}

	t.regex(await read('scripts/systemd/artifact-mirror-sync.timer'), /^OnCalendar=/m);

	// cron's own PATH is /usr/bin:/bin; `npm install -g .` may link into /usr/local/bin.
	const cron = await read('scripts/crontab.example');
	const cronPath = /^PATH=(.*)$/m.exec(cron)?.[1] ?? '';
	t.true(cronPath.split(':').includes('/usr/local/bin'), cronPath);
	t.true(cronPath.split(':').includes('/usr/bin'), cronPath);
	const jobs = cron
		.split('\n')
		.filter((line) => /^[\d*]/.test(line))
		.map((line) => line.split(/\s+/).slice(5).join(' '));
	t.deepEqual(
		jobs.map((job) => /^artifact-mirror (\w+)/.exec(job)?.[1]),
		['sync', 'verify', 'prune'],
	);
	t.false(
		jobs.some((job) => job.includes('%')),
		'cron turns % into a new line',
	);

	// Each job for real, with an artifact-mirror that exits as told: cron mails
	// whatever a job prints, so silence on 0 and one line otherwise, 3 included.
	const dir = await tempDir(t);
	await mkdir(path.join(dir, 'bin'));
	await writeFile(path.join(dir, 'bin', 'artifact-mirror'), '#!/bin/sh\necho "$*"\nexit "$STUB_EXIT"\n', {
		mode: 0o755,
	});
	for (const job of jobs) {
		const command = job.replaceAll('/var/log/artifact-mirror/', `${dir}/`);
		for (const code of [0, 1, 3]) {
			const result = spawnSync('sh', ['-c', command], {
				env: {PATH: `${path.join(dir, 'bin')}:${cronPath}`, STUB_EXIT: String(code)},
				encoding: 'utf8',
			});
			const mail = result.stdout + result.stderr;
			if (code === 0) {
				t.is(mail, '', `${job}: exit 0 mails nothing`);
			} else {
				t.is(mail.trim().split('\n').length, 1, `${job}: exit ${code} mails one line: ${mail}`);
				t.regex(mail, new RegExp(`exit ${code}\\b`), job);
			}
		}
	}
});

test('README first screen: the offline demo and how artifact-mirror gets on the PATH', async (t) => {
	const readme = await read('README.md');
	const firstScreen = readme.slice(0, readme.indexOf('\n---\n'));
	t.true(firstScreen.split('\n').length <= 40);
	t.regex(firstScreen, /npm ci && npm start/);
	t.regex(firstScreen, /npm test/);
	t.regex(firstScreen, /npm run demo/);
	t.regex(firstScreen, /npm install -g \./);
	t.regex(firstScreen, /npm link/);
	t.is(
		(JSON.parse(await read('package.json')) as {bin: Record<string, string>}).bin['artifact-mirror'],
		'dist/cli/index.js',
	);
});
