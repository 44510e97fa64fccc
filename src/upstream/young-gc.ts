/**
Keeps the garbage of a large download small. Every chunk a socket reads is a fresh
64 KiB buffer, and the HTTP parser copies the body out of it into another; both are
garbage once written and hashed, but V8 frees them only at a young-generation
collection, which it starts on its own only once 32 MiB of such buffers are young
(twice its default semi-space, whatever the heap flags say). Between collections
they pile up in malloc's heap, which seldom gives memory back: a 256 MiB sync peaked
45 MiB above a no-op one. A young collection every 2 MiB received (about half a
millisecond each with the small young generation of a sync, 128 per 256 MiB) bounds
that pile to a few MiB; every 4 MiB left the peak 3 MiB higher for the same CPU time.

Only large downloads count: a sync of many small files has more live young objects
(several downloads, the plan) that each collection copies, so forcing them there
costs CPU, and the pile-up it would bound is a few files' worth anyway.

The collection is V8's `gc` function, which is only defined in contexts made after
`--expose-gc` is set: it is looked up once, in a context of its own.
*/
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes received, over every large download of the process, between two young collections. */
const collectEveryBytes = 2 * 1024 * 1024;

/** Downloads from this size (or of no declared size) count their bytes. */
const largeDownloadBytes = 64 * 1024 * 1024;

type GcFunction = (options: {type: 'minor'}) => void;

/** The gc function; null when this runtime does not give one (then nothing is forced). */
let collect: GcFunction | null | undefined;
let sinceCollect = 0;

function gcFunction(): GcFunction | null {
	if (collect === undefined) {
		try {
			v8.setFlagsFromString('--expose-gc');
			const found: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
			collect = typeof found === 'function' ? (found as GcFunction) : null;
		} catch {
			collect = null;
		}
	}

	return collect;
}

/**
Count `bytes` just received into buffers that are garbage once handled; after every
few MiB, collect the young generation, which frees them.
*/
function receivedGarbage(bytes: number): void {
	sinceCollect += bytes;
	if (sinceCollect < collectEveryBytes) {
		return;
	}

	sinceCollect = 0;
	gcFunction()?.({type: 'minor'});
}

/**
What a download of `size` bytes (undefined: not declared) calls with each chunk's
length: the counter above for a large download, nothing for a small one.
*/
export function garbageCounter(size: number | undefined): ((bytes: number) => void) | undefined {
	return size !== undefined && size < largeDownloadBytes ? undefined : receivedGarbage;
}
