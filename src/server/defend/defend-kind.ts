/** Which Elastic Defend file a tree path is, for the object store's caches and the request metrics. */
import {parseDefendManifestPath} from '../../defend/catalog.js';

/**
`manifest` for a version's manifest zip (replaced under its name as upstream changes
it), `artifact` for a file under `downloads/endpoint/artifacts/` (immutable once a
manifest names it), undefined for anything else.
*/
export function defendFileKind(relative: string): 'manifest' | 'artifact' | undefined {
	if (parseDefendManifestPath(relative) !== undefined) {
		return 'manifest';
	}

	return relative.startsWith('downloads/endpoint/artifacts/') ? 'artifact' : undefined;
}
