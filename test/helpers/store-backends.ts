/**
The two store backends as the conformance suite sees them: a fresh empty mirror
(a temp directory, or a fresh bucket of the test S3 server), opened only through
store/open.ts as every command opens it, plus what a test needs to look past the
store: the raw bytes at a path under the mirror's root (`.mirror/...` included),
and the order in which the store wrote to its tree.
*/
import {type FSWatcher, watch} from 'node:fs';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {GetObjectCommand, PutObjectCommand} from '@aws-sdk/client-s3';
import {dirLocation, type StoreLocation, s3Location} from '../../src/store/location.js';
import {openStore} from '../../src/store/open.js';
import type {LeaseTiming, MirrorStore} from '../../src/store/store.js';
import {startRecordingProxy} from './recording-proxy.js';
import {s3Server, testClient, withBucket} from './s3.js';
import type {Teardown} from './teardown.js';
import {tempDir} from './temp.js';

/** One fresh mirror of a backend. */
export type TestMirror = {
	readonly location: StoreLocation;
	/** Open the mirror with openStore (closed at teardown); `lease` shortens its lock's lease. */
	open(lease?: LeaseTiming): Promise<MirrorStore>;
	/** The bytes at `relative` under the mirror's root, read past the store; undefined when missing. */
	readRaw(relative: string): Promise<Buffer | undefined>;
	/** Put bytes at `relative` under the mirror's root past the store (another host's lock, a stray file). */
	writeRaw(relative: string, data: string | Uint8Array): Promise<void>;
	/**
	Record the store's writes to the paths `names` (relative to the root), in the order
	they happened; `folders` are where they live (a directory needs to watch them).
	`stop` gives each write's path, a removal included, once per write.
	*/
	trace(names: readonly string[], folders: readonly string[]): Promise<{stop(): Promise<string[]>}>;
};

/** A backend under test. */
export type StoreBackend = {
	readonly name: string;
	fresh(t: Teardown): Promise<TestMirror>;
};

function opener(t: Teardown, location: StoreLocation) {
	return async (lease?: LeaseTiming) => {
		const store = await openStore({location, lease});
		t.teardown(() => store.close());
		return store;
	};
}

const sleep = (ms: number) =>
	new Promise((resolve) => {
		setTimeout(resolve, ms);
	});

/** A mirror directory. Its trace comes from inotify, which reports a folder's changes in the order they happened. */
export const directoryBackend: StoreBackend = {
	name: 'directory store',
	async fresh(t) {
		const dir = await tempDir(t, 'store-conformance-');
		const location = dirLocation(dir);
		const raw = (relative: string) => path.join(dir, ...relative.split('/'));
		return {
			location,
			open: opener(t, location),
			readRaw: (relative) => readFile(raw(relative)).catch(() => undefined),
			async writeRaw(relative, data) {
				await mkdir(path.dirname(raw(relative)), {recursive: true});
				await writeFile(raw(relative), data);
			},
			async trace(names, folders) {
				const wanted = new Set(names);
				const seen: string[] = [];
				const watchers: FSWatcher[] = [];
				for (const folder of folders) {
					await mkdir(raw(folder), {recursive: true});
					watchers.push(
						watch(raw(folder), (_event, name) => {
							const relative = folder ? `${folder}/${name}` : `${name}`;
							if (wanted.has(relative)) {
								seen.push(relative);
							}
						}),
					);
				}

				return {
					async stop() {
						// Events arrive after the fact: wait until none has come for a while.
						let count = -1;
						while (count !== seen.length) {
							count = seen.length;
							await sleep(100);
						}

						for (const watcher of watchers) {
							watcher.close();
						}

						return seen;
					},
				};
			},
		};
	},
};

/**
A fresh bucket of the test S3 server, reached through a recording proxy so that a
trace is the order of the store's requests.
*/
export const s3Backend: StoreBackend = {
	name: 'S3 store',
	async fresh(t) {
		const bucket = await withBucket(t);
		const proxy = await startRecordingProxy(s3Server.endpoint);
		t.teardown(() => proxy.close());
		const location = s3Location({...bucket.location, endpoint: proxy.url});
		const client = testClient();
		t.teardown(() => client.destroy());
		const key = (relative: string) => `${bucket.location.prefix}${relative}`;
		const open = opener(t, location);
		return {
			location,
			async open(lease) {
				const store = await open(lease);
				// The local staging folder outlives the store (downloads resume); not a test's.
				t.teardown(() => rm(store.tmp, {recursive: true, force: true}));
				return store;
			},
			async readRaw(relative) {
				try {
					const output = await client.send(new GetObjectCommand({Bucket: bucket.bucket, Key: key(relative)}));
					return Buffer.from((await output.Body?.transformToByteArray()) ?? []);
				} catch (error) {
					if ((error as Error).name === 'NoSuchKey') {
						return undefined;
					}

					throw error;
				}
			},
			async writeRaw(relative, data) {
				await client.send(new PutObjectCommand({Bucket: bucket.bucket, Key: key(relative), Body: data}));
			},
			async trace(names) {
				const wanted = new Set(names);
				const root = `/${bucket.bucket}/${bucket.location.prefix}`;
				proxy.record((requestPath) => {
					const relative = decodeURIComponent(requestPath.replace(/\?.*$/, ''));
					const name = relative.startsWith(root) ? relative.slice(root.length) : undefined;
					return name !== undefined && wanted.has(name) ? name : undefined;
				});
				return {stop: async () => proxy.stop()};
			},
		};
	},
};
