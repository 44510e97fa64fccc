/** Which Elastic Defend file a tree path is, for the object store's caches and the request metrics. */
import {isDefendArtifactPath, parseDefendManifestPath} from '../../defend/catalog.js';

/**
`manifest` for a version's manifest zip (replaced under its name as upstream changes
it), `artifact` for a path a Defend artifact may have (immutable once a
manifest names it), undefined for anything else.
*/
export function defendFileKind(relative: string): 'manifest' | 'artifact' | undefined {
	if (parseDefendManifestPath(relative) !== undefined) {
		return 'manifest';
	}

	return isDefendArtifactPath(relative) ? 'artifact' : undefined;
}
