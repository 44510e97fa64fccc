#!/usr/bin/env node
// Compiles src/ to dist/ and copies the non-TypeScript assets (the bundled
// trusted key, the pages' stylesheet and script) next to the code that loads them relative to import.meta.url.
import {spawnSync} from 'node:child_process';
import {chmodSync, cpSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
rmSync(dist, {recursive: true, force: true});

const tsc = path.join(
	path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
	'bin',
	'tsc',
);
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
	stdio: 'inherit',
});
if (result.status !== 0) {
	process.exit(result.status ?? 1);
}

cpSync(path.join(root, 'src', 'keys'), path.join(dist, 'keys'), {recursive: true});
cpSync(path.join(root, 'src', 'server', 'public'), path.join(dist, 'server', 'public'), {recursive: true});
chmodSync(path.join(dist, 'cli', 'index.js'), 0o755);
