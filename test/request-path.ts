import test from 'ava';
import {maxPathLength, parseRequestPath} from '../src/server/http/request-path.js';

test('plain paths become tree segments; repeated slashes fold', (t) => {
	t.deepEqual(parseRequestPath('/downloads//beats/elastic-agent/'), {
		segments: ['downloads', 'beats', 'elastic-agent'],
		relative: 'downloads/beats/elastic-agent',
		trailingSlash: true,
	});
	t.like(
		parseRequestPath('/downloads/beats/elastic-agent/elastic-agent-8.14.0%2Bbuild1-linux-x86_64.tar.gz'),
		{
			relative: 'downloads/beats/elastic-agent/elastic-agent-8.14.0+build1-linux-x86_64.tar.gz',
		},
	);
	// A + in a path is a literal plus, never a space.
	t.like(parseRequestPath('/a+b'), {relative: 'a+b'});
	t.like(parseRequestPath('/'), {segments: [], trailingSlash: true});
});

test('malformed paths are 400, hidden ones 404', (t) => {
	for (const raw of [
		'/..',
		'/a/../b',
		'/%2e%2e/x',
		'/a/%2E',
		'/a%2fb',
		'/a%5Cb',
		'/a\\b',
		'/a%00',
		'/%E0%A4%A',
		'/%c0%ae%c0%ae/',
		'relative',
		`/${'a'.repeat(maxPathLength)}`,
	]) {
		t.like(parseRequestPath(raw), {status: 400}, raw);
	}

	for (const raw of ['/.mirror/manifest.json', '/%2Emirror/', '/downloads/.tmp/x', '/.gitkeep']) {
		t.deepEqual(parseRequestPath(raw), {status: 404, message: 'not found'}, raw);
	}
});
