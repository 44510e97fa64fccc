/** The canned Defend versions every security-host test can start from. */
import {createHash} from 'node:crypto';
import type {FakeArtifactSpec, FakeDefendVersion} from './fake-security-build.js';

/** An exception list the way Kibana encodes one: `{entries: [...]}` (`TranslatedExceptionListItem`). */
function exceptionList(values: readonly string[]): string {
	return JSON.stringify({
		entries: values.map((value) => ({
			type: 'simple',
			entries: [{field: 'process.executable.caseless', operator: 'included', type: 'exact_caseless', value}],
		})),
	});
}

/**
A deterministic "model": `size` bytes, half hash output (incompressible), half repeated text, so the
encoded size differs clearly from the decoded one and the file spans many TCP segments.
*/
function modelBlob(seed: string, size: number): Uint8Array {
	const out = Buffer.alloc(size);
	let at = 0;
	for (let block = 0; at < size; block++) {
		const piece =
			block % 2 === 0
				? createHash('sha256').update(`${seed}:${block}`).digest()
				: Buffer.from(`${seed} layer ${block} weights `.padEnd(32, '.'));
		at += piece.copy(out, at);
	}
	return out;
}

const linuxList = exceptionList(['/usr/bin/updatedb', '/usr/sbin/logrotate']);
const sharedModel = modelBlob('endpointpe-v4-model 9.x', 256 * 1024);

const artifact = (identifier: string, content: string | Uint8Array): FakeArtifactSpec => ({
	identifier,
	content,
});

/**
What it holds, and why:
- 8.19.3, 9.0.7, 9.1.3: each names six artifacts (exception lists per OS as JSON, a blocklist, a
  diagnostic configuration, a 256 KiB model).
- 9.0.7 and 9.1.3 share `global-exceptionlist-linux` and `endpointpe-v4-model` (same decoded bytes,
  so the same relative_url): one file named by two manifests.
- 9.1.3 is signed (its zip holds `manifest.sig`); the others are not.
- 9.1.2 names an artifact whose served bytes do not match its encoded_sha256.
*/
export const standardDefendVersions: readonly FakeDefendVersion[] = [
	{
		version: '8.19.3',
		manifestVersion: '1.0.2417',
		artifacts: [
			artifact('global-exceptionlist-windows', exceptionList(['C:\\Windows\\System32\\svchost.exe'])),
			artifact('global-exceptionlist-linux', exceptionList(['/usr/bin/updatedb'])),
			artifact('global-exceptionlist-macos', exceptionList(['/usr/libexec/xpcproxy'])),
			artifact('endpointpe-v4-blocklist', JSON.stringify({entries: [], version: '8.19.3-1'})),
			artifact('diagnostic-configuration-v1', JSON.stringify({rules: ['diag-8.19-a'], telemetry: true})),
			artifact('endpointpe-v4-model', modelBlob('endpointpe-v4-model 8.19', 256 * 1024)),
		],
	},
	{
		version: '9.0.7',
		manifestVersion: '1.0.2422',
		artifacts: [
			artifact('global-exceptionlist-windows', exceptionList(['C:\\Program Files\\Backup\\agent.exe'])),
			artifact('global-exceptionlist-linux', linuxList),
			artifact('global-exceptionlist-macos', exceptionList(['/usr/sbin/cfprefsd'])),
			artifact('endpointpe-v4-blocklist', JSON.stringify({entries: [], version: '9.0.7-1'})),
			artifact('diagnostic-configuration-v1', JSON.stringify({rules: ['diag-9.0-a'], telemetry: true})),
			artifact('endpointpe-v4-model', sharedModel),
		],
	},
	{
		version: '9.1.2',
		manifestVersion: '1.0.2425',
		artifacts: [
			artifact('global-exceptionlist-windows', exceptionList(['C:\\Tools\\scanner-9.1.2.exe'])),
			artifact('global-exceptionlist-linux', exceptionList(['/opt/scanner/9.1.2/run'])),
			{
				identifier: 'diagnostic-configuration-v1',
				content: JSON.stringify({rules: ['diag-9.1.2-broken'], telemetry: true}),
				corrupt: true,
			},
		],
	},
	{
		version: '9.1.3',
		manifestVersion: '1.0.2431',
		signed: true,
		artifacts: [
			artifact('global-exceptionlist-windows', exceptionList(['C:\\Program Files\\Backup\\agent2.exe'])),
			artifact('global-exceptionlist-linux', linuxList),
			artifact('global-exceptionlist-macos', exceptionList(['/usr/sbin/cfprefsd', '/usr/bin/mdls'])),
			artifact('endpointpe-v4-blocklist', JSON.stringify({entries: [], version: '9.1.3-1'})),
			artifact(
				'diagnostic-configuration-v1',
				JSON.stringify({rules: ['diag-9.1-a', 'diag-9.1-b'], telemetry: true}),
			),
			artifact('endpointpe-v4-model', sharedModel),
		],
	},
];
