/** A forward proxy on loopback: CONNECT tunnels for https, absolute-URI requests for http. */
import http from 'node:http';
import net, {type AddressInfo} from 'node:net';

export type TestProxy = {
	readonly url: string;
	/** `host:port` of every CONNECT, and the URL of every plain request. */
	readonly seen: string[];
	close(): Promise<void>;
};

/** Start the proxy on a free port. */
export async function startProxy(): Promise<TestProxy> {
	const seen: string[] = [];
	const sockets = new Set<net.Socket>();
	const server = http.createServer((request, response) => {
		seen.push(request.url ?? '');
		const target = new URL(request.url ?? '');
		const upstream = http.request(
			{
				host: target.hostname,
				port: target.port,
				path: target.pathname + target.search,
				method: request.method,
				headers: request.headers,
			},
			(reply) => {
				response.writeHead(reply.statusCode ?? 502, reply.headers);
				reply.pipe(response);
			},
		);
		upstream.on('error', () => response.destroy());
		request.pipe(upstream);
	});
	server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
		seen.push(request.url ?? '');
		const [host, port] = (request.url ?? '').split(':');
		const upstream = net.connect(Number(port), host, () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		for (const socket of [client, upstream]) {
			sockets.add(socket);
			socket.on('close', () => sockets.delete(socket));
			socket.on('error', () => {
				client.destroy();
				upstream.destroy();
			});
		}
	});
	await new Promise<void>((resolve) => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		seen,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.closeAllConnections();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
			});
		},
	};
}
