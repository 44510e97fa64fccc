/**
Facts about this package that code needs at run time. Paths are relative to this
module, which sits at the root of both src/ and dist/.
*/
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** The package's version, from package.json. */
export const packageVersion: string = (
	JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}
).version;

/** The project's own copy of Elastic's release signing key: the default trusted key. */
export const bundledKeyPath: string = fileURLToPath(new URL('keys/GPG-KEY-elasticsearch', import.meta.url));

/** The User-Agent sent upstream. */
export const userAgent = `elastic-artifact-mirror/${packageVersion} (+https://github.com/elastic-artifact-mirror)`;
