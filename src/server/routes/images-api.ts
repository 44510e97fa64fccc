/**
`/api/v1/images`: the container images the mirror holds, for people and scripts
(container runtimes use `/v2/` instead): per repository its tags newest first, each
with its digest, media type, platforms held and skipped, size (everything the tag
brings) and times, and the blob store's count and bytes.
*/
import type {Router} from '@koa/router';
import {shortCache} from '../../store/headers.js';
import {type ImageRepositoryRow, imageHoldings} from '../images/image-rows.js';
import type {RouteDeps} from './context.js';

function repositoryJson(row: ImageRepositoryRow) {
	return {
		name: row.name,
		tags: row.tags.map(({tag, entry, size}) => ({
			tag,
			digest: entry.digest,
			mediaType: entry.mediaType,
			platforms: entry.platforms,
			skipped: entry.skipped ?? [],
			size,
			publishedAt: entry.publishedAt,
			refreshedAt: entry.refreshedAt,
		})),
	};
}

/** Register `/api/v1/images` on `router`. */
export function imagesApiRoutes(router: Router, deps: RouteDeps): void {
	router.get('/api/v1/images', async (ctx) => {
		ctx.state.route = 'api';
		const snapshot = await deps.index.snapshot();
		ctx.set('Cache-Control', shortCache);
		// The text depends on the snapshot alone (no URL in it).
		const cached = deps.answers.send(ctx, snapshot, 'images', function* () {
			const {repositories, blobs} = imageHoldings(snapshot);
			yield JSON.stringify({repositories: repositories.map(repositoryJson), blobs});
		});
		if (cached) {
			deps.metrics.cachedAnswers.inc({route: 'api'});
		}
	});
}
