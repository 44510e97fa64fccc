/**
Everything that fetches from an upstream over HTTP (its agents and got instance come
from connection.ts, shared with push-images' destination client).
Requests are retried here with bounded exponential backoff; downloads hash while
they stream to disk and resume a partial file with `Range` when the upstream allows,
bounded by the declared size and a minimum speed. Over 300 lines: one client whose
retry, resume and limits share the state of one got stream each (what a failure
means is in errors.ts; retry and resume helpers are in retry.ts and resume.ts).
*/
import {once} from 'node:events';
import {open as openFile, rm, writeFile} from 'node:fs/promises';
import type http from 'node:http';
import {describeError, MirrorError, NotFoundError, UpstreamError} from '../errors.js';
import {formatBytes} from '../format.js';
import {redactText} from '../redact.js';
import {createFileHasher, largeFileBytes} from '../trust/hash-pool.js';
import {feedFile} from '../trust/hashing.js';
import {createConnection} from './connection.js';
import {statusError, toUpstreamError, unreachableCode} from './errors.js';
import {proxyFor} from './proxy.js';
import {type MinSpeed, watchRate} from './rate.js';
import {fileSink, fileSize, type PartMeta, parseContentRange, parseDate, readMeta} from './resume.js';
import {withRetry} from './retry.js';
import type {
	Conditional,
	DownloadResult,
	DownloadTarget,
	FetchOptions,
	HttpClient,
	HttpConfig,
	TextResult,
} from './types.js';
import {garbageCounter} from './young-gc.js';

/** Create the upstream client for one run. */
export function createHttpClient(config: HttpConfig): HttpClient {
	const connection = createConnection(config);
	const {agentsFor} = connection;
	const counts = {get: 0, head: 0};
	/** Hosts that answered at least once in this run: a failure to reach them later may pass. */
	const reached = new Set<string>();

	/** toUpstreamError, plus: a host that never answered and cannot be reached fails the run. */
	function classify(url: string, error: unknown): MirrorError {
		const failure = toUpstreamError(url, error);
		const target = new URL(url);
		if (!(failure instanceof UpstreamError) || reached.has(target.host)) {
			return failure;
		}

		const code = unreachableCode(error);
		if (!code) {
			return failure;
		}

		const proxy = proxyFor(target, config.proxy);
		// Through a proxy, the proxy is what could not be reached: point at its setting.
		const advice = proxy
			? `cannot reach the proxy ${new URL(proxy).host} (for ${target.host}) (${code}): check HTTPS_PROXY/HTTP_PROXY, or add ${target.host} to NO_PROXY if it is reached directly`
			: `cannot reach ${target.host} (${code}): check --upstream and --versions-api; set HTTPS_PROXY (and NO_PROXY) if this network needs a proxy`;
		return new UpstreamError(
			redactText(url),
			`${advice}; without network access, carry artifacts in with export and import`,
			{retryable: false, cause: error, code: 'ERR_UNREACHABLE'},
		);
	}

	const client = connection.got.extend({followRedirect: true, maxRedirects: 10});

	/** Open a GET stream and wait for its response head. */
	async function open(url: string, headers: Record<string, string> = {}) {
		counts.get++;
		const request = client.stream(url, {headers, agent: agentsFor(url)});
		try {
			const [response] = (await once(request, 'response')) as [http.IncomingMessage & {statusCode: number}];
			reached.add(new URL(url).host);
			// Until the body is read, an error (a timeout while a local step runs) would find
			// no listener and crash the process; it also ends the read that follows, or the
			// stream is destroyed without being read.
			request.on('error', () => undefined);
			return {request, response};
		} catch (error) {
			request.destroy();
			throw toUpstreamError(url, error);
		}
	}

	async function fetchOnce(
		url: string,
		maxBytes: number,
		conditional?: Conditional,
		extra: FetchOptions = {},
	): Promise<TextResult> {
		const headers: Record<string, string> = {...extra.headers};
		if (conditional?.etag) {
			headers['if-none-match'] = conditional.etag;
		}

		if (conditional?.modifiedSince) {
			headers['if-modified-since'] = conditional.modifiedSince.toUTCString();
		}

		const {request, response} = await open(url, headers);
		const etag = response.headers.etag;
		if (response.statusCode === 304 && conditional && (conditional.etag || conditional.modifiedSince)) {
			request.destroy();
			return {
				body: Buffer.alloc(0),
				lastModified: parseDate(response.headers['last-modified']),
				etag,
				notModified: true,
				status: 304,
				headers: response.headers,
			};
		}

		if (response.statusCode !== 200 && !extra.statuses?.includes(response.statusCode)) {
			request.destroy();
			throw statusError(url, response.statusCode);
		}

		const chunks: Buffer[] = [];
		let size = 0;
		const {rate, failure, slow} = watch(url, request);
		try {
			for await (const chunk of request) {
				size += (chunk as Buffer).length;
				rate.add((chunk as Buffer).length);
				if (size > maxBytes) {
					request.destroy();
					throw new UpstreamError(
						redactText(url),
						`${redactText(url)} is larger than ${maxBytes} bytes; refusing it`,
						{
							retryable: false,
						},
					);
				}

				chunks.push(chunk as Buffer);
			}
		} catch (error) {
			throw failure(error);
		} finally {
			rate.stop();
		}

		const tooSlow = slow();
		if (tooSlow) {
			throw tooSlow;
		}

		const body = Buffer.concat(chunks);
		const expected = response.headers['content-length'];
		if (expected !== undefined && Number(expected) !== body.length) {
			throw new UpstreamError(
				redactText(url),
				`truncated body: got ${body.length} of ${expected} bytes from ${redactText(url)}`,
				{
					retryable: true,
				},
			);
		}

		return {
			body,
			lastModified: parseDate(response.headers['last-modified']),
			etag,
			status: response.statusCode,
			headers: response.headers,
		};
	}

	/**
	Fail a transfer that falls below the minimum speed: destroy it, and hand back the
	reason to throw in place of the premature close that follows.
	*/
	function watch(url: string, request: {destroy(): void}) {
		let slow: UpstreamError | undefined;
		const rate = watchRate(config.minSpeed, (speed) => {
			const floor = config.minSpeed as MinSpeed;
			slow = new UpstreamError(
				redactText(url),
				`${redactText(url)} arrived at ${formatBytes(speed)}/s, below the minimum of ${formatBytes(floor.bytesPerSecond)}/s over ${floor.windowMs / 1000} s (--min-speed)`,
				{retryable: true, code: 'ERR_TOO_SLOW'},
			);
			request.destroy();
		});
		return {rate, failure: (error: unknown) => slow ?? toUpstreamError(url, error), slow: () => slow};
	}

	async function downloadOnce(url: string, target: DownloadTarget): Promise<DownloadResult> {
		const offset = await fileSize(target.partPath);
		const meta = offset > 0 ? await readMeta(target.metaPath) : undefined;
		const headers: Record<string, string> = {...target.headers};
		if (offset > 0 && meta?.url === redactText(url) && meta.validator) {
			// If-Range makes a changed upstream file come back whole (200) instead of
			// being spliced onto bytes of its previous version.
			headers.range = `bytes=${offset}-`;
			headers['if-range'] = meta.validator;
		}

		const {request, response} = await open(url, headers);
		// Whatever fails from here on, local or remote, the response is torn down with it:
		// an abandoned stream holds its socket and later throws where nobody listens.
		let finished = false;
		try {
			const result = await receive(url, target, {request, response, headers, offset});
			finished = true;
			return result;
		} finally {
			if (!finished) {
				request.destroy();
			}
		}
	}

	/**
	A local step of a download failed: the disk, not the upstream; retrying will not help.
	A lost lock stays what it is: it ends the run.
	*/
	function localError(url: string, error: unknown): MirrorError {
		if (error instanceof MirrorError && error.code === 'ERR_LOCK_LOST') {
			return error;
		}

		return new UpstreamError(
			redactText(url),
			`cannot write the download of ${redactText(url)}: ${describeError(error)}`,
			{retryable: false, cause: error, code: 'ERR_LOCAL_IO'},
		);
	}

	/** Run a local step of a download; its failure is a localError. */
	async function local<T>(url: string, step: () => Promise<T>): Promise<T> {
		try {
			return await step();
		} catch (error) {
			throw localError(url, error);
		}
	}

	async function receive(
		url: string,
		target: DownloadTarget,
		opened: Awaited<ReturnType<typeof open>> & {headers: Record<string, string>; offset: number},
	): Promise<DownloadResult> {
		const {request, response, headers} = opened;
		let {offset} = opened;
		const status = response.statusCode;
		let declaredTotal: number | undefined;
		if (status === 206 && headers.range) {
			const range = parseContentRange(response.headers['content-range']);
			if (!range || range.start !== offset) {
				target.beforeWrite?.();
				await rm(target.partPath, {force: true, recursive: true});
				throw new UpstreamError(
					redactText(url),
					`upstream sent an unexpected Content-Range for ${redactText(url)}; starting over`,
					{retryable: true},
				);
			}

			declaredTotal = range.total;
		} else if (status === 200) {
			offset = 0;
		} else {
			if (status === 416) {
				// The partial file is longer than the upstream's: it is not a prefix of it.
				target.beforeWrite?.();
				await rm(target.partPath, {force: true, recursive: true});
				throw new UpstreamError(
					redactText(url),
					`upstream refused the resume range for ${redactText(url)}; starting over`,
					{retryable: true},
				);
			}

			throw statusError(url, status);
		}

		const etag = response.headers.etag;
		const validator = etag && !etag.startsWith('W/') ? etag : (response.headers['last-modified'] ?? '');
		target.beforeWrite?.();
		await local(url, () =>
			writeFile(target.metaPath, JSON.stringify({url: redactText(url), validator} satisfies PartMeta)),
		);

		// The declared size bounds what is written: a body that runs past it (chunked, so
		// that HTTP framing does not stop it) is refused before it can fill the disk, and
		// so is one past --max-file-size, declared (refused before its first byte) or not.
		const length = response.headers['content-length'];
		const total = length === undefined ? declaredTotal : offset + Number(length);
		const limit = config.maxFileSize;
		if (total !== undefined && limit !== undefined && total > limit) {
			throw new UpstreamError(
				redactText(url),
				`upstream declares ${total} bytes for ${redactText(url)}, more than --max-file-size (${limit}); refusing it`,
				{retryable: false, code: 'ERR_UPSTREAM_SIZE'},
			);
		}

		// A size known beforehand (an image blob's descriptor) bounds the body too, declared or not.
		const expected = target.maxBytes;
		if (total !== undefined && expected !== undefined && total > expected) {
			throw new UpstreamError(
				redactText(url),
				`upstream declares ${total} bytes for ${redactText(url)}, more than the ${expected} bytes expected; refusing it`,
				{retryable: false, code: 'ERR_UPSTREAM_SIZE'},
			);
		}

		const bound = Math.min(total ?? limit ?? Number.POSITIVE_INFINITY, expected ?? Number.POSITIVE_INFINITY);
		target.onStart?.({total, resumedFrom: offset});

		const hash = createFileHasher([...(target.signature?.specs ?? []), ...(target.digests ?? [])], {
			size: total,
		});
		const {rate, failure, slow} = watch(url, request);
		let received = offset;
		try {
			if (offset > 0) {
				await local(url, () => feedFile(hash, target.partPath));
			}

			// Chunks are written in order through a sink that overlaps writing with receiving;
			// when a transfer breaks off, what it holds is written before giving up, so every
			// byte received so far is kept for the resume (a stream pipeline, torn down on
			// error, drops whatever it still buffers).
			target.beforeWrite?.();
			const file = await local(url, () => openFile(target.partPath, offset > 0 ? 'a' : 'w'));
			// The lock is checked right before each write the sink makes, as before each chunk's.
			// A file of a few MiB is written in fewer, larger writes; a large one holds less.
			const sink = fileSink(file, {
				beforeWrite: target.beforeWrite,
				maxPending: total !== undefined && total < largeFileBytes ? 4 * 1024 * 1024 : undefined,
			});
			const garbage = garbageCounter(total);
			try {
				for await (const chunk of request) {
					const bytes = chunk as Buffer;
					if (bound !== undefined && received + bytes.length > bound) {
						throw new UpstreamError(
							redactText(url),
							bound === expected
								? `upstream sent more than the ${expected} bytes expected for ${redactText(url)}; refusing it`
								: total === undefined
									? `upstream sent more than --max-file-size (${bound} bytes) for ${redactText(url)}, with no size declared; refusing it`
									: `upstream sent more than the ${total} bytes it declared for ${redactText(url)}; refusing it`,
							{retryable: false, code: 'ERR_UPSTREAM_SIZE'},
						);
					}

					received += bytes.length;
					rate.add(bytes.length);
					garbage?.count(bytes.length);
					target.onProgress?.(received);
					// Awaited only when there is something to wait for: an await per chunk costs a turn.
					const hashing = hash.update(bytes);
					if (hashing) {
						await hashing;
					}

					target.beforeWrite?.();
					let writing: Promise<void> | undefined;
					try {
						writing = sink.write(bytes);
					} catch (error) {
						throw localError(url, error);
					}

					if (writing) {
						await local(url, () => writing);
					}
				}

				await local(url, () => sink.flush());
			} catch (error) {
				await sink.flush().catch(() => undefined);
				throw failure(error);
			} finally {
				garbage?.release();
				rate.stop();
				await file.close();
			}

			const tooSlow = slow();
			if (tooSlow) {
				throw tooSlow;
			}

			if (total !== undefined && received !== total) {
				throw new UpstreamError(
					redactText(url),
					`truncated body: got ${received} of ${total} bytes from ${redactText(url)}`,
					{retryable: true},
				);
			}
		} catch (error) {
			hash.abort();
			throw error;
		}

		const digests = await hash.finish();
		return {
			size: received,
			sha512: digests.sha512,
			digests,
			resumedFrom: offset,
			lastModified: parseDate(response.headers['last-modified']),
		};
	}

	return {
		counts,
		fetch(url, options = {}) {
			return withRetry(
				config,
				url,
				options.onRetry,
				() => fetchOnce(url, options.maxBytes ?? 1024 * 1024, options.conditional, options),
				classify,
			);
		},
		exists(url) {
			return withRetry(config, url, undefined, async () => {
				counts.head++;
				const response = await client.head(url, {agent: agentsFor(url)}).catch((error: unknown) => {
					throw classify(url, error);
				});
				reached.add(new URL(url).host);
				if (response.statusCode === 200) {
					return true;
				}

				const failure = statusError(url, response.statusCode);
				if (failure instanceof NotFoundError) {
					return false;
				}

				throw failure;
			});
		},
		download(url, target) {
			return withRetry(config, url, target.onRetry, () => downloadOnce(url, target), classify);
		},
		close() {
			connection.close();
		},
	};
}
