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

While a large download runs, the young generation is also kept from growing (see
holdYoungGeneration): collections forced this often would otherwise read as a high
survival rate and double it, up to 32 MiB a sync never needs. Outside them it may
grow as V8 likes: a sync of many small files allocates enough that a young
generation held at 1 MiB cost it about a tenth more CPU time.

The collection is V8's `gc` function, which is only defined in contexts made after
`--expose-gc` is set: it is looked up once, in a context of its own.
*/
import v8 from 'node:v8';
import vm from 'node:vm';
import {largeFileBytes} from '../trust/hash-pool.js';

/** Bytes received, over every large download of the process, between two young collections. */
const collectEveryBytes = 2 * 1024 * 1024;

/** Downloads from this size (or of no declared size) count their bytes: those hashed through the small ring. */
const largeDownloadBytes = largeFileBytes;

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

/** Holders of the young generation's size; while there is one, it does not grow. */
let holds = 0;

/** V8's own growth factor for the young generation (its semi-spaces double). */
const defaultGrowthFactor = 2;

/**
Keep the young generation at its current size until the returned release is called
(V8 reads the growth factor at each growth). Holds nest; the last release restores
V8's default.
*/
export function holdYoungGeneration(): () => void {
	holds++;
	if (holds === 1) {
		v8.setFlagsFromString('--semi-space-growth-factor=1');
	}

	let released = false;
	return () => {
		if (released) {
			return;
		}

		released = true;
		holds--;
		if (holds === 0) {
			v8.setFlagsFromString(`--semi-space-growth-factor=${defaultGrowthFactor}`);
		}
	};
}

/** The hold taken at the start of a run (holdUntilDownloads), until its first download. */
let beforeDownloads: (() => void) | undefined;

/**
Hold the young generation from now until the first download's body begins: the
modules a sync loads on the way (its command's, openpgp) are what would grow it.
*/
export function holdUntilDownloads(): void {
	beforeDownloads ??= holdYoungGeneration();
}

/**
For a download of `size` bytes (undefined: not declared): `count` each chunk's
length, and `release` once the body is over. Large downloads only; undefined for a
small one. Either way, the run's downloads have begun.
*/
export function garbageCounter(
	size: number | undefined,
): {count(bytes: number): void; release(): void} | undefined {
	const large = size === undefined || size >= largeDownloadBytes;
	// Taken before the start's hold is given back, so that a large first download has no gap.
	const counter = large ? {count: receivedGarbage, release: holdYoungGeneration()} : undefined;
	beforeDownloads?.();
	beforeDownloads = undefined;
	return counter;
}
