/**
A local stand-in for artifacts.elastic.co for trying the mirror by hand: generated
artifacts, real sha512 sidecars, real signatures by a throwaway key.

  npx tsx scripts/dev-upstream.ts [--versions 9.1.2,9.1.3] [--size 4M] [--port 8000] [--key-out FILE] [--rate BYTES/S]

Prints the upstream URL and writes the public key (pass it to sync --trusted-key).
*/
import {writeFile} from 'node:fs/promises';
import {parseArgs} from 'node:util';
import {startFakeUpstream} from '../test/helpers/fake-upstream.js';
import {createTestKey} from '../test/helpers/keys.js';

const {values} = parseArgs({
	options: {
		versions: {type: 'string', default: '9.1.2,9.1.3'},
		products: {type: 'string', default: 'elastic-agent'},
		platforms: {
			type: 'string',
			default: 'linux-x86_64,linux-arm64,darwin-x86_64,darwin-aarch64,windows-x86_64',
		},
		size: {type: 'string', default: '4M'},
		port: {type: 'string', default: '0'},
		'key-out': {type: 'string', default: 'dev-upstream-key.asc'},
		/** Bytes per second per download, to watch progress output. */
		rate: {type: 'string'},
	},
});

const units: Record<string, number> = {'': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3};
const sizeMatch = /^(\d+)([KMG]?)$/i.exec(values.size);
if (!sizeMatch) {
	throw new Error(`--size ${values.size}: expected a number with an optional K, M or G`);
}

const key = await createTestKey('Dev Upstream Signer');
const upstream = await startFakeUpstream({
	key,
	versions: values.versions.split(','),
	products: values.products.split(','),
	platforms: values.platforms.split(','),
	size: Number(sizeMatch[1]) * (units[(sizeMatch[2] ?? '').toUpperCase()] ?? 1),
	port: Number(values.port),
});
if (values.rate) {
	for (const ref of upstream.refs) {
		upstream.faults.set(ref.path, {bytesPerSecond: Number(values.rate)});
	}
}

await writeFile(values['key-out'], key.armoredPublic);
process.stdout.write(
	`upstream:     ${upstream.url}\nversions API: ${upstream.url}/v1/versions\ntrusted key:  ${values['key-out']}\n` +
		`files:        ${upstream.refs.length} artifacts of ${values.size}\n`,
);
process.on('SIGINT', () => {
	void upstream.close().then(() => process.exit(0));
});
