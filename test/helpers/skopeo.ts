/**
Debian's skopeo as the client of the mirror's `/v2/`: run to its end without
throwing (signature policy waived, auth file in the test's directory so a user's
logins play no part), and every blob of the `oci:` folder it copied to, by digest.
*/
import {execFile} from 'node:child_process';
import {createHash} from 'node:crypto';
import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {tempDir} from './temp.js';

/** How skopeo ended. */
export type SkopeoOutcome = {code: number; stdout: Buffer; stderr: string};

/** Run `skopeo --insecure-policy ...args`. */
export async function skopeo(t: ExecutionContext, args: readonly string[]): Promise<SkopeoOutcome> {
	const dir = await tempDir(t, 'mirror-skopeo-');
	return new Promise((resolve) => {
		execFile(
			'skopeo',
			['--insecure-policy', ...args],
			{
				encoding: 'buffer',
				timeout: 60_000,
				env: {...process.env, REGISTRY_AUTH_FILE: path.join(dir, 'auth.json'), XDG_RUNTIME_DIR: dir},
			},
			(error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
				resolve({code, stdout, stderr: stderr.toString()});
			},
		);
	});
}

/** Every blob of the OCI layout at `dir`, by digest. */
export async function layoutBlobs(dir: string): Promise<Map<string, Buffer>> {
	const folder = path.join(dir, 'blobs', 'sha256');
	const blobs = new Map<string, Buffer>();
	for (const name of await readdir(folder)) {
		blobs.set(`sha256:${name}`, await readFile(path.join(folder, name)));
	}

	return blobs;
}

/**
Every blob and manifest of a `dir:` copy, by digest (skopeo's `dir:` keeps a Docker
manifest list as it is, where `oci:` would have to convert it): blobs under their hex,
platform manifests as `<hex>.manifest.json`, the top manifest as `manifest.json`.
*/
export async function dirBlobs(dir: string): Promise<Map<string, Buffer>> {
	const blobs = new Map<string, Buffer>();
	for (const name of await readdir(dir)) {
		const bytes = await readFile(path.join(dir, name));
		const hex = /^([a-f0-9]{64})(?:\.manifest\.json)?$/.exec(name)?.[1];
		if (hex) {
			blobs.set(`sha256:${hex}`, bytes);
		} else if (name === 'manifest.json') {
			blobs.set(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes);
		}
	}

	return blobs;
}
