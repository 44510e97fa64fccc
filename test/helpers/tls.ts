/** A private CA and a server certificate for localhost/127.0.0.1, made with openssl. */
import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';

/** PEM strings plus the CA written to a file, as `--ca-file` takes it. */
export type TestCertificates = {ca: string; caFile: string; cert: string; key: string};

/** Create the CA and the server certificate in `dir`. */
export function createCertificates(dir: string): TestCertificates {
	const file = (name: string) => path.join(dir, name);
	const openssl = (...args: string[]) => execFileSync('openssl', args, {stdio: 'pipe'});
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	openssl(
		'req',
		'-x509',
		...ec,
		'-days',
		'2',
		'-subj',
		'/CN=Mirror Test CA',
		'-keyout',
		file('ca.key'),
		'-out',
		file('ca.pem'),
	);
	openssl('req', ...ec, '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr'));
	writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
	openssl(
		'x509',
		'-req',
		'-in',
		file('server.csr'),
		'-CA',
		file('ca.pem'),
		'-CAkey',
		file('ca.key'),
		'-CAcreateserial',
		'-days',
		'2',
		'-extfile',
		file('ext.cnf'),
		'-out',
		file('server.pem'),
	);
	return {
		ca: readFileSync(file('ca.pem'), 'utf8'),
		caFile: file('ca.pem'),
		cert: readFileSync(file('server.pem'), 'utf8'),
		key: readFileSync(file('server.key'), 'utf8'),
	};
}

/**
An RSA private key (PEM) that belongs to no certificate of `createCertificates`, whose
keys are EC: OpenSSL keeps one key per type, so it takes this one beside an EC
certificate without complaint.
*/
export function createRsaKey(dir: string): string {
	const file = path.join(dir, 'other-rsa.key');
	execFileSync(
		'openssl',
		['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file],
		{
			stdio: 'pipe',
		},
	);
	return readFileSync(file, 'utf8');
}
