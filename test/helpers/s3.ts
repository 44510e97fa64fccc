/**
A real S3 server for tests: Ceph radosgw on loopback, started once per test run
by `npm test` (scripts/test.ts) when it is not already running, and by CI before
that. Test files never start or stop it: three files doing so at once stopped
each other's server. Each test gets its own bucket, emptied and removed afterwards.
*/
import {randomBytes} from 'node:crypto';
import {
	CreateBucketCommand,
	DeleteBucketCommand,
	DeleteObjectsCommand,
	ListObjectsV2Command,
	S3Client,
} from '@aws-sdk/client-s3';
import type {S3Location} from '../../src/store/s3/location.js';
import {type Prerequisite, s3Endpoint, s3Prerequisite} from './prerequisites.js';
import type {Teardown} from './teardown.js';

/** Where the test S3 server is and how to sign in; the script's defaults. */
export const s3Server = {
	endpoint: s3Endpoint,
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

/**
Whether the S3 tests can run: what `npm test` found (MIRROR_TEST_S3), or, when
ava runs a file directly, whether the server answers. Starts nothing; pass the
result to gatedTest, which skips with the reason, or fails in CI.
*/
export function ensureS3(): Promise<Prerequisite> {
	return s3Prerequisite();
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
