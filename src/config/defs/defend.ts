/**
The options that select Elastic Defend protection artifacts and the host they come
from. Sync reads them from every source.
*/
import {defaultDefendUpstream} from '../../defend/catalog.js';
import type {VersionSpec} from '../../versions.js';
import {rootUrl, versionList} from './kinds.js';
import {group} from './option.js';

/** Defend versions whose protections to mirror, and the security artifacts host. */
export const defendDefs = group({
	defendArtifacts: {
		...versionList,
		description:
			'Elastic Defend versions whose protection artifacts to mirror: exact versions, ranges and latest, resolved like --versions',
		defaultText: 'none',
		show: (specs: readonly VersionSpec[]) => specs.map((spec) => spec.text),
	},
	defendUpstream: {
		...rootUrl,
		description: 'the security artifacts host (artifacts.security.elastic.co or another mirror)',
		default: defaultDefendUpstream,
	},
});
