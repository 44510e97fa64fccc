/**
The TLS options of `serve`: the certificate chain and key it answers HTTPS with.
*/
import {existingFile} from './kinds.js';
import {option} from './option.js';

/** The PEM certificate chain. */
export const tlsCertOption = option({
	name: 'tls-cert',
	arg: '<file>',
	env: ['MIRROR_TLS_CERT'],
	description: 'PEM certificate chain: serve HTTPS (re-read on SIGHUP)',
	defaultText: 'plain HTTP',
	...existingFile('TLS certificate'),
});

/** The PEM private key of the certificate. */
export const tlsKeyOption = option({
	name: 'tls-key',
	arg: '<file>',
	env: ['MIRROR_TLS_KEY'],
	description: 'PEM private key for --tls-cert (re-read on SIGHUP)',
	...existingFile('TLS key'),
});
