import test from 'ava';
import {noProxyMatches, proxyFor} from '../src/upstream/proxy.js';

const proxy = {https: 'http://proxy.internal:3128', http: 'proxy.internal:8080'};

test('the proxy is chosen by scheme; a bare host:port gets http://', (t) => {
	t.is(proxyFor('https://artifacts.elastic.co/x', proxy), 'http://proxy.internal:3128');
	t.is(proxyFor('http://mirror.local/x', proxy), 'http://proxy.internal:8080');
	t.is(proxyFor('https://a.example/x', {http: 'http://p:1'}), undefined);
});

test('NO_PROXY matches hosts, domain suffixes, ports and *', (t) => {
	const with_ = (noProxy: string, url: string) => proxyFor(url, {...proxy, noProxy});
	t.is(with_('artifacts.elastic.co', 'https://artifacts.elastic.co/x'), undefined);
	t.is(with_('.elastic.co', 'https://artifacts.elastic.co/x'), undefined);
	// Changed by issue 14 item 17: a domain covers its subdomains, as in curl and Go.
	t.is(with_('elastic.co', 'https://artifacts.elastic.co/x'), undefined);
	t.is(with_('*.elastic.co', 'https://artifacts.elastic.co/x'), undefined);
	t.is(with_('.elastic.co', 'https://elastic.co/x'), undefined);
	t.is(with_('localhost:8443, 127.0.0.1', 'https://localhost:8443/x'), undefined);
	t.is(with_('localhost:8443', 'https://localhost/x'), 'http://proxy.internal:3128');
	t.is(with_('*', 'https://anything/x'), undefined);
	t.is(with_('[::1]', 'https://[::1]:9200/x'), undefined);
	t.is(with_('elastic.co.evil', 'https://artifacts.elastic.co/x'), 'http://proxy.internal:3128');
});

/** [NO_PROXY, URL, whether the URL bypasses the proxy]: what curl and Go's httpproxy do. */
const table: Array<[string, string, boolean]> = [
	// Nothing set, or only blanks.
	['', 'https://artifacts.elastic.co/', false],
	[' , ,', 'https://artifacts.elastic.co/', false],
	// `*` alone turns the proxy off; inside a name it is only a wildcard label prefix.
	['*', 'https://artifacts.elastic.co/', true],
	['example.com, *', 'http://10.1.2.3/', true],
	// A domain matches itself and every subdomain, at a label boundary only.
	['elastic.co', 'https://elastic.co/', true],
	['elastic.co', 'https://artifacts.elastic.co/', true],
	['elastic.co', 'https://a.b.elastic.co/', true],
	['elastic.co', 'https://notelastic.co/', false],
	['elastic.co', 'https://elastic.co.evil.example/', false],
	['artifacts.elastic.co', 'https://elastic.co/', false],
	// A leading dot or `*.`: subdomains, and (curl's reading) the domain itself.
	['.elastic.co', 'https://artifacts.elastic.co/', true],
	['.elastic.co', 'https://elastic.co/', true],
	['*.elastic.co', 'https://artifacts.elastic.co/', true],
	['.elastic.co', 'https://xelastic.co/', false],
	// Case and trailing dots do not matter.
	['Elastic.CO', 'https://ARTIFACTS.elastic.co/', true],
	['elastic.co.', 'https://artifacts.elastic.co./', true],
	// Separators: commas, spaces, both.
	['foo.example , elastic.co', 'https://artifacts.elastic.co/', true],
	['foo.example elastic.co', 'https://artifacts.elastic.co/', true],
	// Ports: only that port; the scheme's default counts when the URL has none.
	['elastic.co:443', 'https://artifacts.elastic.co/', true],
	['elastic.co:443', 'http://artifacts.elastic.co/', false],
	['elastic.co:8443', 'https://artifacts.elastic.co:8443/', true],
	['elastic.co:8443', 'https://artifacts.elastic.co/', false],
	// IP addresses match themselves only, never as a suffix.
	['10.1.2.3', 'http://10.1.2.3:9200/', true],
	['2.3', 'http://10.1.2.3/', false],
	['1.2.3', 'http://10.1.2.3/', false],
	['10.1.2.3:9200', 'http://10.1.2.3:9200/', true],
	['10.1.2.3:9200', 'http://10.1.2.3:9300/', false],
	// CIDR blocks, for hosts given as addresses (names are not resolved).
	['10.0.0.0/8', 'http://10.1.2.3/', true],
	['10.0.0.0/8', 'http://11.1.2.3/', false],
	['192.168.1.0/24', 'https://192.168.1.77:8443/', true],
	['192.168.1.0/24', 'https://192.168.2.77/', false],
	['127.0.0.0/8', 'http://localhost/', false],
	['0.0.0.0/0', 'http://203.0.113.9/', true],
	['10.0.0.0/33', 'http://10.1.2.3/', false],
	['10.0.0.0/x', 'http://10.1.2.3/', false],
	// IPv6: bracketed or bare addresses, with ports, and blocks.
	['::1', 'http://[::1]:8080/', true],
	['[::1]:8080', 'http://[::1]:8080/', true],
	['[::1]:8080', 'http://[::1]:9090/', false],
	['fd00::/8', 'http://[fd12:3456::1]/', true],
	['fd00::/8', 'http://[fe80::1]/', false],
	['fd00::/8', 'http://10.1.2.3/', false],
	['10.0.0.0/8', 'http://[fd12::1]/', false],
];

for (const [noProxy, url, bypass] of table) {
	test(`NO_PROXY=${JSON.stringify(noProxy)} ${bypass ? 'bypasses' : 'does not bypass'} ${url}`, (t) => {
		t.is(noProxyMatches(new URL(url), noProxy), bypass);
	});
}
