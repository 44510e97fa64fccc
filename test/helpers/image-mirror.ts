/**
A mirror of container images for the page tests: Debian's docker-registry behind the
token proxy, filled with generated images, and `sync --images` from it into a
directory, keeping linux/amd64 only (so multi-platform tags have a skipped platform).
*/
import type {ExecutionContext} from 'ava';
import type {Summary} from '../../src/mirror/events.js';
import {createTestKey} from './keys.js';
import {type PushedImage, pushMultiPlatform, pushSinglePlatform} from './oci-images.js';
import {startRegistry} from './oci-registry.js';
import {runSync} from './run.js';
import {tempDir} from './temp.js';
import {startTokenProxy, type TokenProxy} from './token-proxy.js';

/** The upstream and what was pushed to it. */
export type ImageUpstream = {
	readonly proxy: TokenProxy;
	readonly elasticsearch: PushedImage;
	readonly operator: PushedImage;
	readonly diagnostics: PushedImage;
	readonly kibana: PushedImage;
};

/** Start a registry behind the token proxy with Elasticsearch, Kibana (two platforms), the ECK operator and support-diagnostics (amd64). */
export async function imageUpstream(t: ExecutionContext): Promise<ImageUpstream> {
	const registry = await startRegistry(t);
	const proxy = await startTokenProxy(t, registry.url);
	return {
		proxy,
		elasticsearch: await pushMultiPlatform(registry.url, 'elasticsearch/elasticsearch', '9.1.3'),
		operator: await pushSinglePlatform(registry.url, 'eck/eck-operator', '3.2.0', 'linux/amd64'),
		diagnostics: await pushSinglePlatform(
			registry.url,
			'eck-dev/support-diagnostics',
			'9.3.1',
			'linux/amd64',
		),
		kibana: await pushMultiPlatform(registry.url, 'kibana/kibana', '9.1.3'),
	};
}

/** `sync --images images` from `registry` into `dir`, linux/amd64 only, with no real credentials read. */
export async function syncImages(
	t: ExecutionContext,
	dir: string,
	registry: string,
	images: string,
): Promise<Summary> {
	const keys = await tempDir(t, 'keys-');
	const flags = {
		dir,
		upstream: 'http://127.0.0.1:9',
		'versions-api': 'http://127.0.0.1:9/v1/versions',
		'trusted-key': [await (await createTestKey()).writePublic(keys)],
		'retry-delay': '5',
		timeout: '5',
		retries: '0',
		images,
		'image-registry': registry,
		'image-platforms': 'linux/amd64',
	};
	return (await runSync(flags, {DOCKER_CONFIG: dir, HOME: dir})).summary;
}
