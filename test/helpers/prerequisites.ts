/**
What the S3 and browser tests need, found once per test run: `npm test`
(scripts/test.ts) decides, starting the S3 server if it has to, and hands the
outcome down in MIRROR_TEST_S3 and MIRROR_TEST_BROWSER (`ready` or
`unavailable:<reason>`). A test file run by ava directly probes on its own.
Nothing here starts or stops a server, and nothing here imports ava, so that the
wrapper can use it too.
*/
import {existsSync} from 'node:fs';

/** Present, or absent with the reason a person can act on. */
export type Prerequisite = {readonly ok: true} | {readonly ok: false; readonly reason: string};

/** Where the test S3 server answers (scripts/s3/start-rgw.sh's default). */
export const s3Endpoint = process.env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:7480';

/** Debian's chromium, which the browser test drives with playwright-core. */
export const chromiumPath = '/usr/bin/chromium';

/** CI asks for a complete run: a prerequisite that is missing there fails the tests that need it. */
export function isCi(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
	const value = (env.CI ?? '').trim().toLowerCase();
	return value !== '' && value !== 'false' && value !== '0';
}

/** The form MIRROR_TEST_S3 and MIRROR_TEST_BROWSER carry. */
export function encodePrerequisite(prerequisite: Prerequisite): string {
	return prerequisite.ok ? 'ready' : `unavailable:${prerequisite.reason}`;
}

/** Read MIRROR_TEST_S3 or MIRROR_TEST_BROWSER; undefined when unset (probe instead). */
export function decodePrerequisite(value: string | undefined): Prerequisite | undefined {
	if (value === undefined || value === '') {
		return undefined;
	}

	if (value === 'ready') {
		return {ok: true};
	}

	return {ok: false, reason: value.replace(/^unavailable:/, '') || 'no reason given'};
}

/** Whether the S3 server at `endpoint` answers like S3 (a bucket listing). */
export async function s3Answers(endpoint = s3Endpoint): Promise<boolean> {
	try {
		const response = await fetch(`${endpoint}/`, {signal: AbortSignal.timeout(2000)});
		return (await response.text()).includes('ListAllMyBucketsResult');
	} catch {
		return false;
	}
}

/** The S3 server as this run sees it: the wrapper's word, else a probe. */
export async function s3Prerequisite(env = process.env): Promise<Prerequisite> {
	const given = decodePrerequisite(env.MIRROR_TEST_S3);
	if (given) {
		return given;
	}

	return (await s3Answers())
		? {ok: true}
		: {
				ok: false,
				reason: `no S3 server answers at ${s3Endpoint} (npm test starts one; or bash scripts/s3/start-rgw.sh)`,
			};
}

/** The browser as this run sees it: the wrapper's word, else whether chromium is installed. */
export function browserPrerequisite(env = process.env): Prerequisite {
	return (
		decodePrerequisite(env.MIRROR_TEST_BROWSER) ??
		(existsSync(chromiumPath)
			? {ok: true}
			: {ok: false, reason: `${chromiumPath} is missing (apt-get install chromium fonts-liberation)`})
	);
}
