/**
A real S3 server for tests: Ceph radosgw on loopback, started by
scripts/s3/start-rgw.sh (CI starts it before the tests; here it is started when
missing). Each test gets its own bucket, emptied and removed afterwards.
*/
import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {
	CreateBucketCommand,
	DeleteBucketCommand,
	DeleteObjectsCommand,
	ListObjectsV2Command,
	S3Client,
} from '@aws-sdk/client-s3';
import type {S3Location} from '../../src/store/s3/location.js';
import type {Teardown} from './teardown.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the test S3 server is and how to sign in; the script's defaults. */
export const s3Server = {
	endpoint: process.env.S3_TEST_ENDPOINT ?? 'http://127.0.0.1:7480',
	accessKeyId: process.env.S3_ACCESS_KEY ?? 'CIACCESSKEY000000000',
	secretAccessKey: process.env.S3_SECRET_KEY ?? 'CIsecretkey0000000000000000000000000000000',
};

/** The environment a CLI child process gets to reach the test server. */
export const s3Env = {
	AWS_ACCESS_KEY_ID: s3Server.accessKeyId,
	AWS_SECRET_ACCESS_KEY: s3Server.secretAccessKey,
	MIRROR_S3_ENDPOINT: s3Server.endpoint,
	MIRROR_S3_PATH_STYLE: 'true',
	// The SDK's advice to move to Node 22 is not what these tests look at.
	AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

async function answers(): Promise<boolean> {
	try {
		const response = await fetch(`${s3Server.endpoint}/`, {signal: AbortSignal.timeout(2000)});
		return (await response.text()).includes('ListAllMyBucketsResult');
	} catch {
		return false;
	}
}

/**
Make sure the S3 server runs: ask it, and start it with the project's script when it
does not answer. Resolves with the reason when it cannot run, so that the S3 tests
are skipped with that reason printed, never silently.
*/
export async function ensureS3(): Promise<{ok: true} | {ok: false; reason: string}> {
	if (await answers()) {
		return {ok: true};
	}

	try {
		await promisify(execFile)('bash', [path.join(root, 'scripts', 's3', 'start-rgw.sh')], {
			timeout: 180_000,
		});
	} catch (error) {
		return {ok: false, reason: `scripts/s3/start-rgw.sh failed: ${(error as Error).message.split('\n')[0]}`};
	}

	return (await answers())
		? {ok: true}
		: {ok: false, reason: `no S3 server answers at ${s3Server.endpoint} after start-rgw.sh`};
}

/** An SDK client for the test server, for setting up and inspecting buckets. */
export function testClient(): S3Client {
	return new S3Client({
		endpoint: s3Server.endpoint,
		region: 'us-east-1',
		forcePathStyle: true,
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
		credentials: {accessKeyId: s3Server.accessKeyId, secretAccessKey: s3Server.secretAccessKey},
	});
}

/** A fresh bucket for one test, emptied and deleted at teardown. */
export async function withBucket(
	t: Teardown,
	prefix = 'mirror/',
): Promise<{bucket: string; location: S3Location; url: string}> {
	const client = testClient();
	const bucket = `t-${randomBytes(6).toString('hex')}`;
	await client.send(new CreateBucketCommand({Bucket: bucket}));
	t.teardown(async () => {
		let token: string | undefined;
		do {
			const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
			const keys = (page.Contents ?? []).map((object) => ({Key: object.Key}));
			if (keys.length > 0) {
				await client.send(new DeleteObjectsCommand({Bucket: bucket, Delete: {Objects: keys}}));
			}

			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		await client.send(new DeleteBucketCommand({Bucket: bucket}));
		client.destroy();
	});
	return {
		bucket,
		url: `s3://${bucket}/${prefix}`.replace(/\/$/, ''),
		location: {
			bucket,
			prefix,
			endpoint: s3Server.endpoint,
			region: 'us-east-1',
			pathStyle: true,
			credentials: {accessKeyId: s3Server.accessKeyId, secretAccessKey: s3Server.secretAccessKey},
		},
	};
}
