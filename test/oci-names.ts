/**
The names `/v2/` serves (src/server/oci/names.ts): default names, ECK's flat names
with `--container-repository`, repositories merged by tag under one flat name, and a
tag two of them hold served from neither; and the request grammar (request.ts).
*/
import test from 'ava';
import {clashText, servedNames} from '../src/server/oci/names.js';
import {acceptsType, parseOciPath} from '../src/server/oci/request.js';
import type {ImageBlobEntry, ImageTagEntry} from '../src/store/manifest.js';

const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const at = '2026-01-01T00:00:00.000Z';

function tag(n: number): ImageTagEntry {
	return {
		digest: digest(n),
		mediaType: 'application/vnd.oci.image.manifest.v1+json',
		size: 1,
		platforms: [],
		publishedAt: at,
		refreshedAt: at,
	};
}

function blob(n: number, refs: number[] = []): ImageBlobEntry {
	return {digest: digest(n), size: 1, publishedAt: at, ...(refs.length > 0 ? {refs: refs.map(digest)} : {})};
}

const images = {
	repositories: {
		'beats/elastic-agent': {'8.19.0': tag(1), '9.1.3': tag(2)},
		'elastic-agent/elastic-agent': {'9.1.3': tag(3), '9.2.0': tag(4)},
		'elastic/kibana': {'9.1.3': tag(5)},
	},
	blobs: Object.fromEntries(
		[blob(1, [11]), blob(2, [11]), blob(3, [12]), blob(4), blob(5), blob(11), blob(12)].map((each) => [
			each.digest,
			each,
		]),
	),
};

test('without --container-repository, each repository under its own name only', (t) => {
	const {names, clashes} = servedNames(images, undefined);
	t.deepEqual([...names.keys()].sort(), [
		'beats/elastic-agent',
		'elastic-agent/elastic-agent',
		'elastic/kibana',
	]);
	t.deepEqual(clashes, []);
	t.deepEqual([...(names.get('beats/elastic-agent')?.digests().keys() ?? [])].sort(), [
		digest(1),
		digest(2),
		digest(11),
	]);
});

test('flat names merge by tag; a tag both hold is a clash served from neither', (t) => {
	const {names, clashes} = servedNames(images, 'elastic');
	const flat = names.get('elastic/elastic-agent');
	t.deepEqual([...(flat?.tags.keys() ?? [])].sort(), ['8.19.0', '9.2.0']);
	t.is(flat?.tags.get('8.19.0')?.repository, 'beats/elastic-agent');
	t.is(flat?.tags.get('9.2.0')?.repository, 'elastic-agent/elastic-agent');
	t.false(flat?.digests().has(digest(12)), 'reached only by the clashing tag');
	t.is(flat?.digests().get(digest(11)), 'beats/elastic-agent');
	t.deepEqual(clashes, [
		{
			name: 'elastic/elastic-agent',
			tag: '9.1.3',
			repositories: ['beats/elastic-agent', 'elastic-agent/elastic-agent'],
		},
	]);
	// Each repository's own name keeps the tag.
	t.is(names.get('beats/elastic-agent')?.tags.get('9.1.3')?.entry.digest, digest(2));
	// A repository whose flat name is its own name does not clash with itself.
	t.deepEqual([...(names.get('elastic/kibana')?.tags.keys() ?? [])], ['9.1.3']);
	t.is(
		clashText(clashes[0] as (typeof clashes)[number], 'elastic'),
		'--container-repository elastic: beats/elastic-agent and elastic-agent/elastic-agent would both be elastic/elastic-agent:9.1.3; drop one of the two tags from the mirror or serve without --container-repository',
	);
});

test('paths: the name runs to the last route word; bad names, tags and digests are told apart', (t) => {
	t.deepEqual(parseOciPath('/v2/a/manifests/b/manifests/1.0'), {
		kind: 'manifest',
		name: 'a/manifests/b',
		reference: '1.0',
		byDigest: false,
	});
	t.like(parseOciPath('/v2/a/b/tags/list'), {kind: 'tags', name: 'a/b'});
	t.like(parseOciPath(`/v2/a/blobs/${digest(1).replace(':', '%3A')}`), {kind: 'blob', digest: digest(1)});
	t.like(parseOciPath('/v2/a/../b/manifests/1'), {kind: 'invalid', code: 'NAME_INVALID'});
	t.like(parseOciPath('/v2/a/manifests/.x'), {kind: 'invalid', code: 'TAG_INVALID'});
	t.like(parseOciPath('/v2/a/manifests/sha256:ABC'), {kind: 'invalid', code: 'DIGEST_INVALID'});
	t.like(parseOciPath(`/v2/a/manifests/sha512:${'a'.repeat(128)}`), {
		kind: 'unknown',
		code: 'MANIFEST_UNKNOWN',
	});
	t.like(parseOciPath('/v2/a/other'), {kind: 'none'});
	t.like(parseOciPath('/v2/'), {kind: 'base'});
	t.like(parseOciPath('/v2/_catalog'), {kind: 'catalog'});
});

test('Accept: absent, */*, or the stored type itself; equivalents do not count', (t) => {
	const oci = 'application/vnd.oci.image.index.v1+json';
	t.true(acceptsType(undefined, oci));
	t.true(acceptsType('text/plain, */*;q=0.1', oci));
	t.true(acceptsType(`application/vnd.docker.distribution.manifest.v2+json, ${oci}; q=0.5`, oci));
	t.false(acceptsType('application/vnd.docker.distribution.manifest.list.v2+json', oci));
});

test('a tag two repositories hold at the same digest is no clash: either serves the same image', (t) => {
	const same = {
		repositories: {
			'beats/elastic-agent': {'8.19.0': tag(1)},
			'elastic-agent/elastic-agent': {'8.19.0': tag(1), '9.1.3': tag(3)},
		},
		blobs: images.blobs,
	};
	const {names, clashes} = servedNames(same, 'elastic');
	t.deepEqual(clashes, []);
	t.deepEqual([...(names.get('elastic/elastic-agent')?.tags.keys() ?? [])].sort(), ['8.19.0', '9.1.3']);
	t.is(names.get('elastic/elastic-agent')?.tags.get('8.19.0')?.entry.digest, digest(1));
});
