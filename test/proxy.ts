import test from 'ava';
import {proxyFor} from '../src/sync/proxy.js';

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
	t.is(with_('elastic.co', 'https://artifacts.elastic.co/x'), 'http://proxy.internal:3128');
	t.is(with_('*.elastic.co', 'https://artifacts.elastic.co/x'), undefined);
	t.is(with_('.elastic.co', 'https://elastic.co/x'), undefined);
	t.is(with_('localhost:8443, 127.0.0.1', 'https://localhost:8443/x'), undefined);
	t.is(with_('localhost:8443', 'https://localhost/x'), 'http://proxy.internal:3128');
	t.is(with_('*', 'https://anything/x'), undefined);
	t.is(with_('[::1]', 'https://[::1]:9200/x'), undefined);
	t.is(with_('elastic.co.evil', 'https://artifacts.elastic.co/x'), 'http://proxy.internal:3128');
});
