/**
`/package/<n>/<v>/<file>`: one file from inside a package zip (`<n>-<v>/<file>`),
read from the store without unpacking the zip, with the registry's Content-Type and
cache lifetime (static.go, http.ServeContent). The entry's bytes are one version's
and never change, so the answer has a strong ETag and honours ranges and 304s.
*/
import {createHash} from 'node:crypto';
import type {Context} from 'koa';
import type {PackageEntry} from '../../store/manifest.js';
import {readEntry, type ZipEntry} from '../../zip.js';
import {prepare} from '../http/conditional.js';
import {packageFileType} from './content-type.js';
import type {PackageFiles, ZipRef} from './package-files.js';
import {cacheHeaders, cacheSeconds, registryError} from './respond.js';

/** No script, no plugins, no forms; images and inline styles of the file itself only. */
const packageFileCsp = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";

/** The largest file served from inside a zip (package files are icons, docs and screenshots). */
const largestFile = 64 * 1024 * 1024;

/** One file's entry and bytes from the zip `ref`, or why there are none. */
async function readFromZip(
	files: PackageFiles,
	ref: ZipRef,
	name: string,
	lastTry = false,
): Promise<{found: ZipEntry; body: Buffer} | 'no-zip' | 'no-file' | 'failed'> {
	const zip = await files.openZip(ref);
	if (!zip) {
		return 'no-zip';
	}

	const found = zip.entries.get(name);
	if (!found || found.size > largestFile) {
		return 'no-file';
	}

	try {
		return {found, body: await readEntry(zip, found, largestFile)};
	} catch (error) {
		if (lastTry) {
			throw error;
		}

		return 'failed';
	}
}

/** Answer `file` of the package version `entry` (undefined: the mirror does not hold it). */
export async function sendPackageFile(
	ctx: Context,
	files: PackageFiles,
	entry: PackageEntry | undefined,
	file: string,
): Promise<void> {
	if (!entry) {
		registryError(ctx, 404, 'package revision not found');
		return;
	}

	const ref = {relative: entry.path, size: entry.size, sha512: entry.sha512};
	const name = `${entry.name}-${entry.version}/${file}`;
	let read = await readFromZip(files, ref, name);
	if (read === 'failed') {
		// The zip kept open may be a copy the store no longer holds: open it afresh, once.
		files.forget(ref);
		read = await readFromZip(files, ref, name, true);
	}

	if (read === 'no-zip') {
		registryError(ctx, 404, 'package revision not found');
		return;
	}

	// The registry sets its cache headers before it looks for the file: its 404 keeps them.
	cacheHeaders(ctx, cacheSeconds.catchAll);
	if (read === 'no-file' || read === 'failed') {
		registryError(ctx, 404, 'resource not found', false);
		return;
	}

	const {found, body} = read;
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
