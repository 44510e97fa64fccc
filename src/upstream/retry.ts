/** Retrying upstream requests with bounded exponential backoff. */
import {type MirrorError, UpstreamError} from '../errors.js';
import {redactText} from '../redact.js';
import {toUpstreamError} from './errors.js';
import type {HttpConfig, RetryEvent} from './types.js';

const maxDelayMs = 30_000;

/** The delay before retry `attempt`: exponential from --retry-delay, capped, with jitter. */
function backoff(config: HttpConfig, attempt: number): number {
	const base = Math.min(maxDelayMs, config.retryDelayMs * 2 ** (attempt - 1));
	return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
Run `action` until it succeeds, retrying failures that may pass (as `classify` judges
them) up to `config.retries` times with backoff; `onRetry` hears of each retry.
*/
export async function withRetry<T>(
	config: HttpConfig,
	url: string,
	onRetry: ((event: RetryEvent) => void) | undefined,
	action: (attempt: number) => Promise<T>,
	classify: (url: string, error: unknown) => MirrorError = toUpstreamError,
): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await action(attempt);
		} catch (error) {
			const failure = classify(url, error);
			if (!(failure instanceof UpstreamError) || !failure.retryable || attempt > config.retries) {
				throw failure;
			}

			const delayMs = backoff(config, attempt);
			onRetry?.({url: redactText(url), attempt, retries: config.retries, delayMs, reason: failure.message});
			await new Promise((resolve) => {
				setTimeout(resolve, delayMs);
			});
		}
	}
}
