/**
`/package/<n>/<v>/<file>`: one file from inside a package zip (`<n>-<v>/<file>`),
read from the store without unpacking the zip, with the registry's Content-Type and
cache lifetime (static.go, http.ServeContent). The entry's bytes are one version's
and never change, so the answer has a strong ETag and honours ranges and 304s.
*/
import {createHash} from 'node:crypto';
import type {Context} from 'koa';
import {readEntry} from '../../packages/zip.js';
import type {PackageEntry} from '../../store/manifest.js';
import {prepare} from '../http/conditional.js';
import {packageFileType} from './content-type.js';
import type {PackageFiles} from './package-files.js';
import {cacheHeaders, cacheSeconds, registryError} from './respond.js';

/** No script, no plugins, no forms; images and inline styles of the file itself only. */
const packageFileCsp = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/** The largest file served from inside a zip (package files are icons, docs and screenshots). */
const largestFile = 64 * 1024 * 1024;

/** Answer `file` of the package version `entry` (undefined: the mirror does not hold it). */
export async function sendPackageFile(
	ctx: Context,
	files: PackageFiles,
	entry: PackageEntry | undefined,
	file: string,
): Promise<void> {
	const zip = entry
		? await files.openZip({relative: entry.path, size: entry.size, sha512: entry.sha512})
		: undefined;
	if (!entry || !zip) {
		registryError(ctx, 404, 'package revision not found');
		return;
	}

	// The registry sets its cache headers before it looks for the file: its 404 keeps them.
	cacheHeaders(ctx, cacheSeconds.catchAll);
	const found = zip.entries.get(`${entry.name}-${entry.version}/${file}`);
	if (!found || found.size > largestFile) {
		registryError(ctx, 404, 'resource not found', false);
		return;
	}

	const body = await readEntry(zip, found, largestFile);
	const lastModified = found.entry.getLastModDate();
	const etag = `"${createHash('sha1').update(`${entry.sha512}\n${found.name}`).digest('hex')}"`;
	const range = prepare(
		ctx,
		{
			identity: etag,
			size: body.length,
			etag,
			lastModified,
			lastModifiedText: lastModified.toUTCString(),
		},
		{
			contentType: packageFileType(file, body),
			cacheControl: `max-age=${cacheSeconds.catchAll}, public`,
			immutable: true,
		},
	);
	cacheHeaders(ctx, cacheSeconds.catchAll);
	// Package files are data: an SVG or HTML opened directly must not run script on this origin.
	ctx.set('Content-Security-Policy', packageFileCsp);
	if (range) {
		ctx.body = body.subarray(range.start, range.end + 1);
	}
}
