/**
Response bodies written past koa: from a file, from shared blocks, from a store's
stream. They all end the same way, whole or cut short. Content-Length went out with
the headers, so a body that cannot be finished (the client left, the file shrank, the
store failed or changed mid-body) ends by destroying the connection: a short body must
never pass for a complete one.
*/
import {pipeline} from 'node:stream/promises';
import type {Context} from 'koa';
import {whenClosed} from './exchange.js';

/** Adds bytes the response has taken to its count, for the access log. */
export type CountSent = (bytes: number) => void;

/** A readable body from elsewhere (a store's answer) that can be stopped. */
export type BodyStream = NodeJS.ReadableStream & {destroy(error?: Error): void};

/**
Send the body that `write` writes, past koa, with the status and headers set on `ctx`:
the response is ended when `write` resolves and cut short when it rejects. Resolves
once it is one or the other; never rejects.
*/
export async function pumpBody(ctx: Context, write: (count: CountSent) => Promise<void>): Promise<void> {
	const res = ctx.res;
	let sent = 0;
	ctx.state.bytesSent = () => sent;
	ctx.respond = false;
	res.statusCode = ctx.status;
	try {
		await write((bytes) => {
			sent += bytes;
		});
		// A piped body ends the response itself.
		if (!res.writableEnded) {
			res.end();
		}
	} catch {
		res.destroy();
	}
}

/**
Pipe `body` into the response; resolves when all of it went out, rejects when the
source fails or the client leaves. A response queued behind a pipelined one never
closes when its client leaves (exchange.ts): `body` is destroyed on its request's
close too, which ends the pipeline and aborts whatever feeds it.
*/
export async function pipeTo(ctx: Context, body: BodyStream, count: CountSent): Promise<void> {
	body.on('data', (chunk: Buffer) => count(chunk.length));
	const stop = whenClosed(ctx, () => body.destroy());
	try {
		await pipeline(body, ctx.res);
	} finally {
		stop();
	}
}
