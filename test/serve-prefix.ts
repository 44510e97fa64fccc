import http from 'node:http';
import type {AddressInfo} from 'node:net';
import test from 'ava';
import {getJson, request} from './helpers/http.js';
import {createTestKey} from './helpers/keys.js';
import {runSync, syncFlags} from './helpers/run.js';
import type {Teardown} from './helpers/teardown.js';
import {withServer} from './helpers/with-server.js';
import {withUpstream} from './helpers/with-upstream.js';

const prefix = '/elastic';

/** A reverse proxy that mounts the server below `/elastic/`, as an ingress with a path would. */
async function prefixProxy(t: Teardown): Promise<{url: string; target: (url: string) => void}> {
	let target = '';
	const server = http.createServer((incoming, outgoing) => {
		const url = incoming.url ?? '/';
		if (url !== prefix && !url.startsWith(`${prefix}/`)) {
			outgoing.writeHead(404).end('outside the prefix\n');
			return;
		}

		const forwarded = http.request(
			`${target}${url.slice(prefix.length) || '/'}`,
			{method: incoming.method, headers: incoming.headers},
			(reply) => {
				outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
				reply.pipe(outgoing);
			},
		);
		forwarded.on('error', () => outgoing.destroy());
		incoming.pipe(forwarded);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		target: (url) => {
			target = url;
		},
	};
}

function links(page: string): string[] {
	return [...page.matchAll(/\b(?:href|src)="([^"#][^"]*)"/g)]
		.map((match) => (match[1] ?? '').replaceAll('&amp;', '&'))
		.filter((link) => !link.startsWith('data:'));
}

test('with --public-url below a path, every link on / and on a listing works through a proxy that mounts the server there', async (t) => {
	const setup = await withUpstream(t, await createTestKey(), {
		versions: ['9.1.3'],
		products: ['elastic-agent', 'fleet-server'],
		platforms: ['linux-x86_64', 'windows-x86_64'],
	});
	const {summary} = await runSync(
		syncFlags(setup.upstream.url, setup.dir, setup.keyPath, {
			versions: '9.1.3',
			products: 'elastic-agent,fleet-server',
			platforms: 'linux-x86_64,windows-x86_64',
		}),
	);
	t.is(summary.result, 'success');
	const proxy = await prefixProxy(t);
	const publicUrl = `${proxy.url}${prefix}`;
	const server = await withServer(t, setup.dir, {publicUrl});
	proxy.target(server.url);

	const visited = new Set<string>();
	const follow = async (pageUrl: string) => {
		const response = await request(proxy.url, new URL(pageUrl).pathname, {headers: {Accept: 'text/html'}});
		t.is(response.status, 200, pageUrl);
		const found = links(response.text);
		t.true(found.length > 5, `links on ${pageUrl}`);
		for (const link of found) {
			const target = new URL(link, pageUrl);
			t.true(
				target.href.startsWith(`${publicUrl}/`),
				`${link} on ${pageUrl} leaves the public URL: ${target.href}`,
			);
			if (!visited.has(target.href)) {
				visited.add(target.href);
				const answer = await request(proxy.url, target.pathname + target.search, {method: 'HEAD'});
				t.is(answer.status, 200, `${link} on ${pageUrl} (${target.href})`);
			}
		}

		return response.text;
	};

	const home = await follow(`${publicUrl}/`);
	// What Fleet and agents are told carries the path too.
	t.true(home.includes(`<code class="value">${publicUrl}/downloads/</code>`));
	t.true(home.includes(`--source-uri ${publicUrl}/downloads/`));
	t.true(home.includes(`<code class="value">${publicUrl}/GPG-KEY-elastic-agent</code>`));
	await follow(`${publicUrl}/downloads/beats/elastic-agent/`);
	await follow(`${publicUrl}/downloads/`);
	t.true(visited.has(`${publicUrl}/assets/app.css`));
	t.true(visited.has(`${publicUrl}/api/v1/artifacts`));

	// A folder without its slash redirects to a place inside the public URL.
	const redirect = await request(proxy.url, `${prefix}/downloads/beats?x=1`);
	t.is(redirect.status, 301);
	t.is(
		new URL(String(redirect.headers.location), `${publicUrl}/downloads/beats?x=1`).href,
		`${publicUrl}/downloads/beats/?x=1`,
	);

	// An error page's links lead back inside too.
	const missing = await request(proxy.url, `${prefix}/downloads/beats/nope/x`, {
		headers: {Accept: 'text/html'},
	});
	t.is(missing.status, 404);
	for (const link of links(missing.text)) {
		const target = new URL(link, `${publicUrl}/downloads/beats/nope/x`);
		t.is((await request(proxy.url, target.pathname)).status, 200, link);
	}

	// URLs in JSON are absolute, under the public URL.
	const listing = await getJson<{entries: Array<{url: string}>}>(
		proxy.url,
		`${prefix}/downloads/beats/elastic-agent/`,
	);
	for (const entry of listing.entries) {
		t.true(entry.url.startsWith(`${publicUrl}/downloads/beats/elastic-agent/`), entry.url);
		t.is((await request(proxy.url, new URL(entry.url).pathname, {method: 'HEAD'})).status, 200);
	}
	const api = await getJson<{artifacts: Array<{url: string}>}>(proxy.url, `${prefix}/api/v1/artifacts`);
	for (const artifact of api.artifacts) {
		t.is((await request(proxy.url, new URL(artifact.url).pathname, {method: 'HEAD'})).status, 200);
	}
});
