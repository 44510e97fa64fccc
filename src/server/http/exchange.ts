/**
When one request's response is over for good, whatever the client did.

A response normally closes when it finishes or its socket goes. Not one queued behind
another on a pipelined connection: when that client leaves, Node 20 closes only the
request (the response gets no `close` and its pending writes no callbacks). So
everything held for a response (descriptors, buffers, blocks, store streams, the
in-flight gauge) is released on whichever of the two closes first.
*/
import type {IncomingMessage, ServerResponse} from 'node:http';

/** The two halves of one exchange, as Koa's context holds them. */
export type Exchange = {readonly req: IncomingMessage; readonly res: ServerResponse};

/** Whether the response can no longer reach its client (or has already been sent whole). */
export function isClosed({req, res}: Exchange): boolean {
	return res.destroyed || req.destroyed;
}

/**
Call `onClose` once, when the response or its request closes (at once when one already
has). Returns a function that stops listening.
*/
export function whenClosed({req, res}: Exchange, onClose: () => void): () => void {
	let done = false;
	const settle = () => {
		stop();
		onClose();
	};

	function stop(): void {
		if (!done) {
			done = true;
			req.off('close', settle);
			res.off('close', settle);
		}
	}

	if (isClosed({req, res})) {
		done = true;
		queueMicrotask(onClose);
		return () => undefined;
	}

	req.once('close', settle);
	res.once('close', settle);
	return stop;
}

/** Write `chunk`; resolves once `res` has taken it, rejects when the exchange closes first. */
export function written(exchange: Exchange, chunk: Buffer): Promise<void> {
	return new Promise((resolve, reject) => {
		if (isClosed(exchange)) {
			reject(new Error('response closed'));
			return;
		}

		const stop = whenClosed(exchange, () => reject(new Error('response closed')));
		exchange.res.write(chunk, (error) => {
			stop();
			if (error) {
				reject(error);
			} else {
				resolve();
			}
		});
	});
}
