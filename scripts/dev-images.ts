/**
A local stand-in for docker.elastic.co for trying the image mirror by hand: Debian's
docker-registry filled with the test suite's generated images (a multi-platform
OCI index, a Docker manifest list, a single-platform operator image, and the
support-diagnostics image), behind the token proxy that challenges like
docker.elastic.co (anonymous bearer tokens per repository, blob redirects).

  npx tsx scripts/dev-images.ts [--port 5055]

Prints the registry URL (give it to sync as --image-registry) and every tag with
its digest, so what a client pulls can be compared with what upstream holds.
*/
import {parseArgs} from 'node:util';
import {pushMultiPlatform, pushSinglePlatform} from '../test/helpers/oci-images.js';
import {startRegistry} from '../test/helpers/oci-registry.js';
import {sharedTeardown} from '../test/helpers/teardown.js';
import {startTokenProxy} from '../test/helpers/token-proxy.js';

const {values} = parseArgs({options: {port: {type: 'string', default: '0'}}});
const teardown = sharedTeardown();
const registry = await startRegistry(teardown);
const pushed = {
	'elasticsearch/elasticsearch:9.1.3': await pushMultiPlatform(
		registry.url,
		'elasticsearch/elasticsearch',
		'9.1.3',
	),
	'kibana/kibana:9.1.3': await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3', {format: 'docker'}),
	'eck/eck-operator:3.2.0': await pushSinglePlatform(
		registry.url,
		'eck/eck-operator',
		'3.2.0',
		'linux/amd64',
	),
	'eck-dev/support-diagnostics:9.3.1': await pushMultiPlatform(
		registry.url,
		'eck-dev/support-diagnostics',
		'9.3.1',
	),
};
const proxy = await startTokenProxy(teardown, registry.url, {redirectBlobs: true, port: Number(values.port)});
process.stdout.write(`image registry: ${proxy.url}\n`);
for (const [name, image] of Object.entries(pushed)) {
	process.stdout.write(`  ${name.padEnd(36)} ${(image.index ?? image.manifests[0])?.digest}\n`);
}

process.on('SIGINT', () => {
	void teardown.run().then(() => process.exit(0));
});
