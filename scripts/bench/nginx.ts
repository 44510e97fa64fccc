/** nginx for the suite: the comparison server, and the local upstream for sync. */
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {stop, waitFor} from './lib.js';

export type Nginx = {
	readonly url: string;
	readonly accessLog: string;
	readonly child: ChildProcess;
	close(): Promise<void>;
};

/**
Serve `root` on loopback the way a careful operator would: sendfile, tcp_nopush,
keep-alive, a worker per core, and the access log only when asked for.
*/
export async function startNginx(options: {
	root: string;
	port: number;
	workDir: string;
	accessLog?: boolean;
}): Promise<Nginx> {
	const prefix = path.join(options.workDir, `nginx-${options.port}`);
	await mkdir(prefix, {recursive: true});
	const accessLog = path.join(prefix, 'access.log');
	const config = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes auto;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
	access_log ${options.accessLog ? `${accessLog}` : 'off'};
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 65;
	client_body_temp_path ${prefix}/body;
	proxy_temp_path ${prefix}/proxy;
	fastcgi_temp_path ${prefix}/fastcgi;
	uwsgi_temp_path ${prefix}/uwsgi;
	scgi_temp_path ${prefix}/scgi;
	types { application/gzip gz; application/zip zip; text/plain sha512 asc; }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:${options.port};
		root ${options.root};
	}
}
`;
	const configPath = path.join(prefix, 'nginx.conf');
	await writeFile(configPath, config);
	const child = spawn('nginx', ['-p', prefix, '-c', configPath, '-g', 'daemon off;'], {
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	const url = `http://127.0.0.1:${options.port}`;
	await waitFor(`${url}/GPG-KEY-elasticsearch`);
	return {
		url,
		accessLog,
		child,
		// SIGQUIT is nginx's graceful stop; SIGTERM is its fast one.
		close: () => stop(child, 'SIGTERM'),
	};
}
