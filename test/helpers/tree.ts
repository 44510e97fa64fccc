/** A mirror tree's served files and their bytes, to compare trees. */
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {listFiles} from './temp.js';

/** Every served file (not the .mirror state) with its sha-free content, as path → bytes. */
export async function treeContents(dir: string): Promise<Map<string, Buffer>> {
	const files = (await listFiles(dir)).filter((file) => !file.startsWith('.mirror/'));
	return new Map(
		await Promise.all(files.map(async (file) => [file, await readFile(path.join(dir, file))] as const)),
	);
}

/** Whether two trees hold the same files with the same bytes. */
export function sameTree(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
	return a.size === b.size && [...a].every(([file, bytes]) => b.get(file)?.equals(bytes) === true);
}
