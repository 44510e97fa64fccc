/**
Which versions a run syncs: the version specs resolved against the list the upstream
(or the versions API) offers, asked for only when a range or `latest` needs it.
*/
import {describeError, MirrorError, UpstreamError} from '../errors.js';
import type {EventSink} from '../mirror/events.js';
import {redactText} from '../redact.js';
import type {HttpClient} from '../upstream/types.js';
import {needsVersionList, parseVersionList, resolveVersions, type VersionSpec} from '../versions.js';
import {runFatalCodes} from './context.js';

const versionsMaxBytes = 32 * 1024 * 1024;

/** Where the version list comes from (the fields of the sync options that say so). */
export type VersionSources = {
	readonly versionsApi: string;
	/** Asked before `versionsApi` when set: the upstream's own `/v1/versions`. */
	readonly upstreamVersionsApi?: string | undefined;
	readonly versions: readonly VersionSpec[];
};

/** A version list and where it came from. */
export type VersionList = {available: string[]; api: string; note?: string | undefined};

/** Fetch and parse one versions API. */
async function fetchVersionList(client: HttpClient, url: string): Promise<string[]> {
	const {body} = await client.fetch(url, {maxBytes: versionsMaxBytes});
	try {
		return parseVersionList(body.toString('utf8'));
	} catch (error) {
		const shown = redactText(url);
		throw new UpstreamError(shown, `${(error as Error).message} (${shown})`, {
			retryable: false,
			cause: error,
		});
	}
}

/**
The versions the upstream offers: from the upstream itself when it is a mirror that
answers `/v1/versions`, else from the versions API.
*/
async function listVersions(options: VersionSources, client: HttpClient): Promise<VersionList> {
	let note: string | undefined;
	if (options.upstreamVersionsApi) {
		try {
			return {
				available: await fetchVersionList(client, options.upstreamVersionsApi),
				api: options.upstreamVersionsApi,
			};
		} catch (error) {
			// An upstream that cannot be reached cannot be synced from either.
			if (error instanceof MirrorError && runFatalCodes.has(error.code)) {
				throw error;
			}

			note = `${redactText(options.upstreamVersionsApi)} did not answer a version list: ${redactText(describeError(error))}`;
		}
	}

	return {available: await fetchVersionList(client, options.versionsApi), api: options.versionsApi, note};
}

/** Resolve the version specs, asking for the version list only when a range or `latest` needs it. */
export async function resolve(
	options: VersionSources,
	client: HttpClient,
	emit: EventSink,
): Promise<{versions: string[]; warnings: string[]; list?: VersionList | undefined}> {
	const list = needsVersionList(options.versions) ? await listVersions(options, client) : undefined;
	const resolution = resolveVersions(options.versions, list?.available ?? []);
	for (const message of resolution.warnings) {
		emit({type: 'warning', message});
	}

	return {...resolution, list};
}
