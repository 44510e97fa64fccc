/**
The download path's pieces on their own: where a file's bytes are hashed (in place for
small files, in a worker through a shared ring otherwise) and the sink that writes
received chunks to the part file in order.
*/
import {createHash, randomBytes} from 'node:crypto';
import {open, readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type {SignedDigestSpec} from '../src/trust/digest.js';
import {createFileHasher, hashingPath, localMaxBytes} from '../src/trust/hash-pool.js';
import {fileSink} from '../src/upstream/resume.js';
import {tempDir} from './helpers/temp.js';

const sha256Plain: SignedDigestSpec = {
	algorithm: 'sha256',
	salt: new Uint8Array(),
	signatureData: new Uint8Array(),
	version: 4,
	plain: true,
};

test('small files are hashed where they arrive, large or unknown ones in a worker', (t) => {
	t.is(hashingPath(0), 'local');
	t.is(hashingPath(localMaxBytes), 'local');
	t.is(hashingPath(localMaxBytes + 1), 'worker');
	t.is(hashingPath(undefined), 'worker');
});

/** Feed `data` in the given chunk sizes, cycling, as a download or a file read does. */
async function feed(data: Buffer, sizes: number[], size?: number) {
	const hasher = createFileHasher([sha256Plain], {size});
	let offset = 0;
	for (let index = 0; offset < data.length; index++) {
		const length = sizes[index % sizes.length] ?? 1;
		await hasher.update(data.subarray(offset, offset + length));
		offset += length;
	}

	return hasher.finish();
}

test('the worker ring gives the digests of the bytes: chunks wrap around it and may be larger than it', async (t) => {
	// 9 MiB and a bit: the 4 MiB ring wraps twice, and a 5 MiB chunk must wait for room.
	const data = randomBytes(9 * 1024 * 1024 + 12_345);
	const sha512 = createHash('sha512').update(data).digest('hex');
	const sha256 = createHash('sha256').update(data).digest('hex');
	for (const sizes of [[65_536], [7777, 1, 65_536 * 3 + 5], [5 * 1024 * 1024]]) {
		const digests = await feed(data, sizes);
		t.is(digests.sha512, sha512, `chunks of ${sizes.join(', ')}`);
		t.is(Buffer.from(digests.signed[0] ?? []).toString('hex'), sha256, `chunks of ${sizes.join(', ')}`);
	}

	// Jobs run side by side (and reuse rings) without mixing their bytes.
	const other = randomBytes(6 * 1024 * 1024);
	const [first, second] = await Promise.all([feed(data, [65_536]), feed(other, [100_000])]);
	t.is(first.sha512, sha512);
	t.is(second.sha512, createHash('sha512').update(other).digest('hex'));
});

test('a small file hashed in place gives the same digests', async (t) => {
	const data = randomBytes(300_000);
	const digests = await feed(data, [4096], data.length);
	t.is(digests.sha512, createHash('sha512').update(data).digest('hex'));
	t.is(Buffer.from(digests.signed[0] ?? []).toString('hex'), createHash('sha256').update(data).digest('hex'));
});

test('an aborted worker job leaves the pool usable', async (t) => {
	const hasher = createFileHasher([], {size: undefined});
	await hasher.update(randomBytes(3 * 1024 * 1024));
	hasher.abort();
	const data = randomBytes(2 * 1024 * 1024);
	t.is((await feed(data, [65_536])).sha512, createHash('sha512').update(data).digest('hex'));
});

test('the sink writes chunks in order, batches them, and bounds what it holds', async (t) => {
	const dir = await tempDir(t);
	const file = path.join(dir, 'part');
	const handle = await open(file, 'w');
	const chunks = Array.from({length: 200}, (_, index) => Buffer.alloc(10_000 + index, index));
	const sink = fileSink(handle, {maxPending: 100_000});
	let waits = 0;
	for (const chunk of chunks) {
		const wait = sink.write(chunk);
		if (wait) {
			waits++;
			await wait;
		}
	}

	await sink.flush();
	await handle.close();
	t.true(waits > 0, 'a full sink makes the receiver wait');
	t.deepEqual(await readFile(file), Buffer.concat(chunks));
});

test('the sink finishes writes the file takes in part, and reports a failed write', async (t) => {
	const written: Buffer[] = [];
	// A file that takes at most 1,000 bytes a call.
	const partial = {
		async writev(buffers: Buffer[]) {
			const all = Buffer.concat(buffers).subarray(0, 1000);
			written.push(Buffer.from(all));
			return {bytesWritten: all.length, buffers};
		},
	};
	const sink = fileSink(partial as never);
	const chunks = [randomBytes(2500), randomBytes(10), randomBytes(1700)];
	for (const chunk of chunks) {
		await sink.write(chunk);
	}

	await sink.flush();
	t.deepEqual(Buffer.concat(written), Buffer.concat(chunks));

	const failing = {
		async writev() {
			throw new Error('ENOSPC: no space left on device');
		},
	};
	const broken = fileSink(failing as never);
	broken.write(Buffer.alloc(10));
	await t.throwsAsync(broken.flush(), {message: /ENOSPC/});
	t.throws(() => broken.write(Buffer.alloc(10)), {message: /ENOSPC/});

	// A run that lost its lock writes nothing more: the check runs before every write.
	let held = true;
	const kept: Buffer[] = [];
	const locked = fileSink(
		{
			async writev(buffers: Buffer[]) {
				kept.push(...buffers);
				return {bytesWritten: Buffer.concat(buffers).length, buffers};
			},
		} as never,
		{
			beforeWrite() {
				if (!held) {
					throw new Error('the lock was lost');
				}
			},
		},
	);
	locked.write(Buffer.from('before'));
	await locked.flush();
	held = false;
	locked.write(Buffer.from('after'));
	await t.throwsAsync(locked.flush(), {message: /lock was lost/});
	t.is(Buffer.concat(kept).toString(), 'before');
});
