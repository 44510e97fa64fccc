/**
A local stand-in for epr.elastic.co for trying the package mirror by hand: the test
suite's standard packages (differing Kibana constraints, a prerelease, dependencies,
one package with a bad signature), signed by a throwaway key.

  npx tsx scripts/dev-registry.ts [--port 8080] [--key-out FILE]

Prints the registry URL and writes the public key (pass it to sync --trusted-key).
*/
import {writeFile} from 'node:fs/promises';
import {parseArgs} from 'node:util';
import {standardPackages, startFakeRegistry} from '../test/helpers/fake-registry.js';
import {createTestKey} from '../test/helpers/keys.js';

const {values} = parseArgs({
	options: {
		port: {type: 'string', default: '0'},
		'key-out': {type: 'string', default: 'dev-registry-key.asc'},
	},
});

const key = await createTestKey('Dev Registry Signer');
const registry = await startFakeRegistry({key, packages: standardPackages, port: Number(values.port)});
await writeFile(values['key-out'], key.armoredPublic);
const names = [...new Set(registry.packages.map((made) => made.spec.name))];
process.stdout.write(
	`registry:     ${registry.url}\ntrusted key:  ${values['key-out']}\n` +
		`packages:     ${registry.packages.length} versions of ${names.length}: ${names.join(', ')}\n`,
);
process.on('SIGINT', () => {
	void registry.close().then(() => process.exit(0));
});
