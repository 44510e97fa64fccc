/**
Text from errors, made fit for the public pages and API: the log keeps the whole
message, but a page must not tell the world pids, host names, local paths or
credentials.
*/
import {redactText} from '../redact.js';

/**
An absolute local path of two or more parts: a `/` that does not follow a word
character, a colon, a dot, `<` or another slash (so the path part of
`https://host/x` and closing tags are left alone).
*/
const localPath = /(?<![\w:/.<])\/[\w.@+-]+(?:\/[\w.@+-]*)+/g;

/** `message` without credentials in URLs and without local paths. */
export function redactPublic(message: string): string {
	return redactText(message).replace(localPath, '…');
}

/** The public line for a scheduled run that failed (skipped ones say only that the lock is held). */
export function publicRunMessage(result: 'failed' | 'skipped', message: string): string {
	return result === 'skipped' ? 'another sync holds the lock' : redactPublic(message);
}
