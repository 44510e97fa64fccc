import {execFile} from 'node:child_process';
import {readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import test from 'ava';
import YAML from 'yaml';
import {loadServeConfig, loadSyncConfig} from '../src/config.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

// No Docker engine runs here, so the Dockerfile and manifests are checked for the
// properties that matter, and the image's health check command is run for real.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');
const run = promisify(execFile);

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

test('Dockerfile HEALTHCHECK needs no curl and really answers: 0 for a live server, 1 otherwise', async (t) => {
	const instructions = await dockerfile();
	const healthcheck = instructions.find((instruction) => instruction.keyword === 'HEALTHCHECK');
	t.truthy(healthcheck);
	const command = JSON.parse(
		healthcheck?.args.slice(healthcheck.args.indexOf('CMD') + 3).trim() ?? '[]',
	) as string[];
	t.false(command.some((part) => /curl|wget/.test(part)));
	t.is(command[0], 'node');
	const server = await withServer(t, await tempDir(t));
	const port = new URL(server.url).port;
	const ok = await run(command[0] as string, command.slice(1), {env: {...process.env, MIRROR_PORT: port}});
	t.is(ok.stderr, '');
	const down = await run(command[0] as string, command.slice(1), {
		env: {...process.env, MIRROR_PORT: '9'},
	}).catch((error: {code: number}) => error);
	t.is((down as {code: number}).code, 1);
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
	t.is(config.dir, '/artifacts');
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
	t.like(config.store, {bucket: 'elastic-artifacts', prefix: 'mirror/', pathStyle: true});
	t.is(config.store?.credentials?.accessKeyId, 'change-me');
	t.is(config.s3BlockCacheBytes, 64 * 1024 * 1024);
	const sync = loadSyncConfig({flags: {config: path.join(dir, 'mirror.yml')} as never, env, cwd: dir});
	t.is(sync.options.store?.bucket, 'elastic-artifacts');
});

test('systemd units and the crontab example run the real commands', async (t) => {
	const serve = await read('scripts/systemd/artifact-mirror.service');
	t.regex(serve, /^ExecStart=.*artifact-mirror serve/m);
	t.regex(serve, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
	const sync = await read('scripts/systemd/artifact-mirror-sync.service');
	t.regex(sync, /^ExecStart=.*artifact-mirror sync/m);
	t.regex(sync, /^SuccessExitStatus=3$/m);
	t.regex(await read('scripts/systemd/artifact-mirror-sync.timer'), /^OnCalendar=/m);
	const cron = await read('scripts/crontab.example');
	t.regex(cron, /artifact-mirror sync .*\|\| \[ \$\? -eq 3 \]/);
});
