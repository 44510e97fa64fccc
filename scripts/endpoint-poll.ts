/**
Poll a host for Elastic Defend protections as Endpoint does (test/helpers/endpoint-client.ts):
the manifest zip of one version by conditional GET, then every artifact it names, each
checked against its sha256 digests and sizes; a second poll should be a 304. For
checking a mirror by hand and for showing what Endpoint would get.

  npx tsx scripts/endpoint-poll.ts --url https://mirror.example --version 9.1.3 [--polls 2]

Exits 1 at the first thing Endpoint would refuse.
*/
import {parseArgs} from 'node:util';
import {endpointClient} from '../test/helpers/endpoint-client.js';

const {values} = parseArgs({
	options: {
		url: {type: 'string'},
		version: {type: 'string'},
		polls: {type: 'string', default: '2'},
	},
});
if (!values.url || !values.version) {
	process.stderr.write('usage: endpoint-poll.ts --url URL --version VERSION [--polls N]\n');
	process.exit(2);
}

const client = endpointClient(values.url.replace(/\/+$/, ''), values.version);
try {
	for (let poll = 1; poll <= Number(values.polls); poll++) {
		const result = await client.poll();
		if (result.status === 304) {
			process.stdout.write(`poll ${poll}: manifest 304 Not Modified (ETag ${client.etag() ?? ''})\n`);
			continue;
		}

		process.stdout.write(
			`poll ${poll}: manifest_version ${result.manifestVersion}, ${result.artifacts.length} artifacts\n`,
		);
		for (const line of result.log) {
			process.stdout.write(`  ${line}\n`);
		}
	}
} catch (error) {
	process.stderr.write(`refused: ${(error as Error).message}\n`);
	process.exit(1);
}
