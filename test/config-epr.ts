/**
A drop-in for Elastic's registry container: serve reads EPR_ADDRESS, EPR_TLS_CERT and
EPR_TLS_KEY as aliases of its own settings, with the image's own MIRROR_PORT set.
*/
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import {loadServeConfig} from '../src/config/index.js';
import {tempDir} from './helpers/temp.js';

const serve = (cwd: string, env: Record<string, string>, flags: Record<string, unknown> = {}) =>
	loadServeConfig({flags: flags as never, env, cwd});

/** The environment the Dockerfile sets. */
const image = {MIRROR_DIR: '/artifacts', MIRROR_PORT: '8080', MIRROR_URL_FILE: '/tmp/artifact-mirror.url'};

test("Elastic's registry container settings: EPR_ADDRESS, EPR_TLS_CERT and EPR_TLS_KEY", async (t) => {
	const cwd = await tempDir(t);
	await writeFile(path.join(cwd, 'cert.pem'), 'cert');
	await writeFile(path.join(cwd, 'key.pem'), 'key');
	const config = serve(cwd, {
		...image,
		EPR_ADDRESS: '0.0.0.0:9443',
		EPR_TLS_CERT: 'cert.pem',
		EPR_TLS_KEY: 'key.pem',
	});
	t.is(config.host, '0.0.0.0');
	t.is(config.port, 9443);
	t.deepEqual(config.tls, {certPath: path.join(cwd, 'cert.pem'), keyPath: path.join(cwd, 'key.pem')});

	// Go's ":8080" (every interface) and a host name, as Elastic's docs write them.
	t.like(serve(cwd, {EPR_ADDRESS: ':8081'}), {host: '0.0.0.0', port: 8081});
	t.like(serve(cwd, {EPR_ADDRESS: 'localhost:8082'}), {host: 'localhost', port: 8082});
	t.like(serve(cwd, {MIRROR_ADDRESS: '127.0.0.1:8083', EPR_ADDRESS: '0.0.0.0:1'}), {
		host: '127.0.0.1',
		port: 8083,
	});
	// Our own names win over Elastic's.
	t.is(
		serve(cwd, {MIRROR_TLS_CERT: 'key.pem', EPR_TLS_CERT: 'cert.pem', EPR_TLS_KEY: 'key.pem'}).tls?.certPath,
		path.join(cwd, 'key.pem'),
	);
});

test('--address against --host and --port: the stronger source wins, the address at equal strength', async (t) => {
	const cwd = await tempDir(t);
	t.like(serve(cwd, {}), {host: '0.0.0.0', port: 8080});
	t.like(serve(cwd, {EPR_ADDRESS: '10.0.0.1:9000'}, {port: '7000'}), {host: '10.0.0.1', port: 7000});
	t.like(serve(cwd, {MIRROR_HOST: '127.0.0.1'}, {address: '10.0.0.2:9001'}), {host: '10.0.0.2', port: 9001});
	await writeFile(path.join(cwd, 'mirror.yml'), 'address: 10.0.0.3:9002\n');
	t.like(serve(cwd, {}), {host: '10.0.0.3', port: 9002});
	t.like(serve(cwd, {MIRROR_PORT: '8080'}), {host: '10.0.0.3', port: 8080});
	t.throws(() => serve(cwd, {EPR_ADDRESS: 'localhost'}), {
		message: /^invalid EPR_ADDRESS "localhost": expected host:port/,
	});
	t.throws(() => serve(cwd, {EPR_TLS_CERT: 'cert.pem'}), {message: /TLS certificate .*cert\.pem/});
});
