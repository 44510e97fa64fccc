/**
Edge cases of what `push-images` sends, against the distribution spec's push section and
what registries answer: the registry side is a scripted PushHttp (unit level), so
answers real registries give and Debian's does not (a declined mount, an upload
Location on another host, a token that stops being accepted) can be checked.
*/
import {Readable} from 'node:stream';
import type {PushHttp, PushRequest, PushResponse} from '../src/images/push-http.js';
import {createRegistryDestination} from '../src/images/registry-push.js';
import {gatedTest} from './helpers/gate.js';
import {ensureRegistry} from './helpers/oci-registry.js';

const gated = gatedTest('the push review tests', await ensureRegistry());

const digest = `sha256:${'a'.repeat(64)}`;
const config = {
	timeoutMs: 5000,
	retries: 1,
	retryDelayMs: 1,
	proxy: {},
	userAgent: 'test',
} as unknown as Parameters<typeof createRegistryDestination>[3];

type Sent = {url: string; method: string; headers: Record<string, string>};

/** A registry that answers `reply(request)`; every request is kept. */
function scripted(reply: (sent: Sent) => Partial<PushResponse> & {status: number}): {
	http: PushHttp;
	sent: Sent[];
} {
	const sent: Sent[] = [];
	const http: PushHttp = {
		counts: {GET: 0, HEAD: 0, POST: 0, PUT: 0},
		async send(url: string, request: PushRequest) {
			if (request.body instanceof Readable) {
				request.body.resume();
			}

			const each = {url, method: request.method, headers: {...request.headers}};
			sent.push(each);
			const answer = reply(each);
			return {headers: {}, body: Buffer.alloc(0), ...answer};
		},
		close() {},
	};
	return {http, sent};
}

gated(
	'a declined mount (202) uploads to its relative Location, digest appended after its query',
	async (t) => {
		const {http, sent} = scripted(({url, method}) => {
			if (url.endsWith('/v2/')) return {status: 200};
			if (method === 'POST' && url.includes('mount=')) {
				return {status: 202, headers: {location: '/v2/to/blobs/uploads/u1?_state=s%2B1'}};
			}

			if (method === 'PUT') return {status: 201, headers: {'docker-content-digest': digest}};
			return {status: 500};
		});
		const destination = createRegistryDestination('http://reg.example:5000', http, undefined, config);
		const outcome = await destination.putBlob(
			'to',
			{digest, size: 3},
			async () => Readable.from([Buffer.from('abc')]),
			'from',
		);
		t.is(outcome, 'uploaded');
		t.deepEqual(
			sent.map(({method, url}) => `${method} ${url}`),
			[
				'GET http://reg.example:5000/v2/',
				`POST http://reg.example:5000/v2/to/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=from`,
				`PUT http://reg.example:5000/v2/to/blobs/uploads/u1?_state=s%2B1&digest=${encodeURIComponent(digest)}`,
			],
		);
	},
);

gated(
	'a token the registry stops accepting is asked for again once, and the blob is read again from the start',
	async (t) => {
		let tokens = 0;
		let puts = 0;
		const bodies: string[] = [];
		const {http, sent} = scripted(({url, method, headers}) => {
			if (url.endsWith('/v2/')) {
				return {
					status: 401,
					headers: {'www-authenticate': 'Bearer realm="http://auth.example/token",service="reg"'},
				};
			}

			if (url.startsWith('http://auth.example/token')) {
				tokens++;
				return {status: 200, body: Buffer.from(JSON.stringify({token: `t${tokens}`}))};
			}

			if (method === 'POST')
				return {status: 202, headers: {location: 'http://reg.example/v2/to/blobs/uploads/u'}};
			if (method === 'PUT') {
				puts++;
				return headers.authorization === 'Bearer t2' ? {status: 201} : {status: 401};
			}

			return {status: 500};
		});
		const destination = createRegistryDestination('http://reg.example', http, undefined, config);
		const outcome = await destination.putBlob('to', {digest, size: 3}, async () => {
			const stream = Readable.from([Buffer.from('abc')]);
			bodies.push('opened');
			return stream;
		});
		t.is(outcome, 'uploaded');
		t.is(tokens, 2);
		t.is(puts, 2);
		t.is(bodies.length, 2);
		t.true(sent.some(({url}) => url.includes('scope=repository%3Ato%3Apull%2Cpush')));
	},
);
