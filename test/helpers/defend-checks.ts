/**
Checks shared by the directory and object-store Defend serving tests: every file of a
version is served byte-identical to the security host's, with the headers Endpoint
relies on (exact Content-Length, no Content-Encoding even when gzip is accepted, a strong
ETag without `-` that answers If-None-Match with 304) and the cache lifetimes of each kind.
*/
import type {ExecutionContext} from 'ava';
import {request} from './http.js';
import {checkServedFile} from './package-checks.js';

/** What the checks read of the security host (the fake's FakeSecurityHost is one). */
export type DefendReference = {
	file(relative: string): Buffer | undefined;
	filesOf(version: string): string[];
};

/** Manifests change under their name; artifacts never do. */
export const defendCacheControl = {
	manifest: 'public, no-cache',
	artifact: 'public, max-age=31536000, immutable',
} as const;

/** Check every file of `version` at `base` against `host`; returns how many were checked. */
export async function checkDefendVersion(
	t: ExecutionContext,
	base: string,
	host: DefendReference,
	version: string,
): Promise<number> {
	const files = host.filesOf(version);
	t.true(files.length > 1, `${version} has a manifest and artifacts`);
	for (const [index, relative] of files.entries()) {
		const expected = host.file(relative);
		if (!expected) {
			t.fail(`the host serves no ${relative}`);
			continue;
		}

		const path = `/${relative}`;
		const manifest = index === 0;
		const etag = await checkServedFile(
			t,
			base,
			path,
			expected,
			manifest ? 'application/zip' : 'application/octet-stream',
		);
		const answer = await request(base, path, {headers: {'Accept-Encoding': 'gzip'}});
		t.is(
			answer.headers['cache-control'],
			manifest ? defendCacheControl.manifest : defendCacheControl.artifact,
			path,
		);
		t.is(answer.headers.etag, etag, `${path}: the same ETag on every request`);
		t.is(answer.headers['content-encoding'], undefined, path);
		// A HEAD with If-None-Match, as a cache revalidating, gets a 304 too.
		const head = await request(base, path, {method: 'HEAD', headers: {'If-None-Match': etag}});
		t.is(head.status, 304, `${path}: HEAD revalidation`);
		t.is(head.headers.etag, etag, path);
	}

	return files.length;
}

/** The value of the series `series` (name and labels, exactly) in a metrics text. */
export function metricValue(metrics: string, series: string): number | undefined {
	const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
	return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
