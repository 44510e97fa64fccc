/**
Many concurrent downloads of one file that read slowly for a while and then at full
speed, each checking every byte against the expected file. Run as its own process
so that the server under test is measured alone.

  node --import tsx/esm scripts/bench/slow-clients.ts URL FILE CLIENTS SLOW_SECONDS RATE_BYTES_PER_SECOND

Prints one JSON line: {ok, failed, errors, bytes, ms}.
*/
import {readFileSync} from 'node:fs';
import http from 'node:http';

const [url = '', file = '', clientsText = '1000', slowText = '20', rateText = '65536'] =
	process.argv.slice(2);
const expected = readFileSync(file);
const clients = Number(clientsText);
const slowMs = Number(slowText) * 1000;
const rate = Number(rateText);
const started = Date.now();
const errors = new Map<string, number>();
let ok = 0;
let failed = 0;
let bytes = 0;

function fail(reason: string) {
	failed++;
	errors.set(reason, (errors.get(reason) ?? 0) + 1);
}

function download(): Promise<void> {
	return new Promise((resolve) => {
		let offset = 0;
		let settled = false;
		const settle = (reason?: string) => {
			if (settled) {
				return;
			}

			settled = true;
			if (reason) {
				fail(reason);
			} else {
				ok++;
			}

			resolve();
		};

		const request = http.get(url, {agent: false}, (response) => {
			if (response.statusCode !== 200 || Number(response.headers['content-length']) !== expected.length) {
				response.resume();
				settle(`status ${response.statusCode}, length ${response.headers['content-length']}`);
				return;
			}

			const clientStart = Date.now();
			response.on('data', (chunk: Buffer) => {
				if (!chunk.equals(expected.subarray(offset, offset + chunk.length))) {
					request.destroy();
					settle(`bytes differ at offset ${offset}`);
					return;
				}

				offset += chunk.length;
				bytes += chunk.length;
				const now = Date.now();
				if (now - started < slowMs) {
					// Hold reading until this client is back under its rate.
					const dueMs = (offset / rate) * 1000 - (now - clientStart);
					if (dueMs > 0) {
						response.pause();
						setTimeout(() => response.resume(), Math.min(dueMs, slowMs - (now - started)));
					}
				}
			});
			response.on('end', () =>
				settle(offset === expected.length ? undefined : `short body: ${offset} bytes`),
			);
			response.on('error', (error) => settle(`response error: ${error.message}`));
		});
		request.on('error', (error) =>
			settle(`request error: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
		);
	});
}

const downloads: Promise<void>[] = [];
for (let index = 0; index < clients; index++) {
	downloads.push(download());
	if (index % 100 === 99) {
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

await Promise.all(downloads);
process.stdout.write(
	`${JSON.stringify({ok, failed, errors: Object.fromEntries(errors), bytes, ms: Date.now() - started})}\n`,
);
