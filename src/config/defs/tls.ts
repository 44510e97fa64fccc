/**
The TLS options of `serve`.
*/
import {existingFile} from './kinds.js';
import {group} from './option.js';

/** The PEM certificate chain and private key serve answers HTTPS with (both, or neither). */
export const tlsDefs = group({
	tlsCert: {
		...existingFile('TLS certificate'),
		description: 'PEM certificate chain: serve HTTPS (re-read on SIGHUP)',
		defaultText: 'plain HTTP',
	},
	tlsKey: {...existingFile('TLS key'), description: 'PEM private key for --tls-cert (re-read on SIGHUP)'},
});
