/**
A local stand-in for artifacts.security.elastic.co for trying the Defend mirror by
hand: the test suite's standard versions (shared artifacts, a signed manifest, and
9.1.2 with an artifact whose bytes do not match its manifest).

  npx tsx scripts/dev-security.ts [--port 8081]

Prints the host URL and the versions it serves.
*/
import {parseArgs} from 'node:util';
import {standardDefendVersions, startFakeSecurityHost} from '../test/helpers/fake-security.js';

const {values} = parseArgs({options: {port: {type: 'string', default: '0'}}});
const host = await startFakeSecurityHost({versions: standardDefendVersions, port: Number(values.port)});
process.stdout.write(
	`security host: ${host.url}\nversions:      ${standardDefendVersions.map((version) => version.version).join(', ')}\n`,
);
process.on('SIGINT', () => {
	void host.close().then(() => process.exit(0));
});
