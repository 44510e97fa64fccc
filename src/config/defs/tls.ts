/**
The TLS options of `serve`. EPR_TLS_CERT and EPR_TLS_KEY, which Elastic's registry
reads, are read too, so its container's settings work unchanged.
*/
import {existingFile} from './kinds.js';
import {group} from './option.js';

/** The PEM certificate chain and private key serve answers HTTPS with (both, or neither). */
export const tlsDefs = group({
	tlsCert: {
		...existingFile('TLS certificate'),
		env: ['MIRROR_TLS_CERT', 'EPR_TLS_CERT'],
		description: 'PEM certificate chain: serve HTTPS (re-read on SIGHUP)',
		defaultText: 'plain HTTP',
	},
	tlsKey: {
		...existingFile('TLS key'),
		env: ['MIRROR_TLS_KEY', 'EPR_TLS_KEY'],
		description: 'PEM private key for --tls-cert (re-read on SIGHUP)',
	},
});
