/** Listing keys under a prefix, every page followed, keys given back relative to the location's prefix. */
import {type _Object, ListObjectsV2Command} from '@aws-sdk/client-s3';
import type {Connection} from './connection.js';
import {guarded} from './errors.js';
import type {Listed} from './objects.js';

/** Every page of a listing under a relative prefix, following continuation tokens. */
async function* pages({client, location, key}: Connection, relativePrefix: string, delimiter?: string) {
	let token: string | undefined;
	do {
		const page = await guarded(location, `listing ${relativePrefix || '/'}`, () =>
			client.send(
				new ListObjectsV2Command({
					Bucket: location.bucket,
					Prefix: key(relativePrefix),
					Delimiter: delimiter,
					ContinuationToken: token,
				}),
			),
		);
		yield page;
		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);
}

function listedOf(prefix: string, objects: _Object[] | undefined): Listed[] {
	return (objects ?? []).flatMap((object) =>
		object.Key
			? [
					{
						key: object.Key.slice(prefix.length),
						size: object.Size ?? 0,
						lastModified: object.LastModified ?? new Date(0),
					},
				]
			: [],
	);
}

/** Every object under a relative prefix, paged through. */
export async function* listObjects(connection: Connection, relativePrefix: string): AsyncIterable<Listed> {
	for await (const page of pages(connection, relativePrefix)) {
		yield* listedOf(connection.location.prefix, page.Contents);
	}
}

/** Objects and sub-folders directly inside a relative folder (`a/b/`). */
export async function listFolder(
	connection: Connection,
	relativeFolder: string,
): Promise<{files: Listed[]; folders: string[]}> {
	const {prefix} = connection.location;
	const files: Listed[] = [];
	const folders: string[] = [];
	for await (const page of pages(connection, relativeFolder, '/')) {
		files.push(...listedOf(prefix, page.Contents));
		for (const common of page.CommonPrefixes ?? []) {
			if (common.Prefix) {
				folders.push(common.Prefix.slice(prefix.length));
			}
		}
	}

	return {files, folders};
}
