/**
The options of `push-images`: the registry to push into, the flat naming scheme
ECK's `--container-repository` uses, and how many blobs go up at once. All are
flags only: they name a one-off copy, not a setting mirror.yml keeps for sync
and serve.
*/
import {UsageError} from '../../errors.js';
import {isRepository} from '../../images/catalog.js';
import {boolean, integer, rootUrl, text} from './kinds.js';
import {group} from './option.js';
import {commonOptions} from './store.js';
import {upstreamDefs} from './upstream.js';

/** push-images' own options. */
export const pushDefs = group({
	to: {
		...rootUrl,
		description:
			'registry to push the mirrored images into (Harbor, the CNCF registry, Artifactory), e.g. https://registry.example.internal; credentials come from a Docker config.json or REGISTRY_AUTH_FILE',
		defaultText: 'required',
		flagOnly: true,
	},
	containerRepository: {
		...text((raw, origin) => {
			const value = String(raw).trim();
			if (!isRepository(value)) {
				throw new UsageError(
					`invalid ${origin.label} "${value}": expected a repository name (lower-case components joined by /), such as elastic`,
				);
			}

			return value;
		}),
		arg: '<name>',
		description:
			"push under the flat names ECK's --container-repository uses: NAME/<last component> (elasticsearch/elasticsearch becomes NAME/elasticsearch)",
		defaultText: "ECK's default names",
		flagOnly: true,
	},
	concurrency: {...integer(1, 64), description: 'blobs uploaded at once (1-64)', default: 4, flagOnly: true},
	dryRun: {
		...boolean,
		description: 'print what would be pushed (names, blob counts, digests) and send nothing',
		flagOnly: true,
	},
	json: {...boolean, description: 'JSON lines on stdout (one per tag, then a summary)', flagOnly: true},
});

/** The options of `push-images`, in the order help lists them. */
export const pushOptions = [
	...commonOptions,
	pushDefs.to,
	pushDefs.containerRepository,
	pushDefs.concurrency,
	upstreamDefs.caFile,
	upstreamDefs.timeout,
	upstreamDefs.retries,
	upstreamDefs.retryDelay,
	pushDefs.dryRun,
	pushDefs.json,
] as const;
