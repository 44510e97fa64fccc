/** A version of a file held whole in memory (a small file, a sidecar), as a tree file. */
import type {FileMeta} from '../http/conditional.js';
import type {TreeFile} from './source.js';

/** The tree file whose bytes are `body`; koa sends the slice asked for. */
export function bufferedFile(meta: FileMeta, body: Buffer): TreeFile {
	return {
		meta,
		send(ctx, range) {
			ctx.body = body.subarray(range.start, range.end + 1);
			return 'sent';
		},
		close: () => undefined,
	};
}
