/** The catalogue's Container images section in a real browser: tags, the --container-registry value that copies, a phone. */
import path from 'node:path';
import {chromium} from 'playwright-core';
import {gatedTest} from './helpers/gate.js';
import {imageUpstream, syncImages} from './helpers/image-mirror.js';
import {ensureRegistry} from './helpers/oci-registry.js';
import {browserPrerequisite, chromiumPath} from './helpers/prerequisites.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const registry = await ensureRegistry();
const browser = browserPrerequisite();
const browserTest = gatedTest('the images browser test', browser.ok ? registry : browser);

browserTest(
	'the Container images section lists the tags and copies the --container-registry value, on a desktop and a phone',
	async (t) => {
		const {proxy} = await imageUpstream(t);
		const dir = await tempDir(t, 'browser-images-');
		const summary = await syncImages(
			t,
			dir,
			proxy.url,
			'elasticsearch/elasticsearch:9.1.3,eck/eck-operator:3.2.0,eck-dev/support-diagnostics:9.3.1',
		);
		t.is(summary.result, 'success', JSON.stringify(summary.failed));
		const {url} = await withServer(t, dir);
		const host = new URL(url).host;
		const shots = process.env.SCREENSHOT_DIR ?? (await tempDir(t, 'screenshots-'));
		const chrome = await chromium.launch({
			executablePath: chromiumPath,
			args: ['--no-sandbox', '--disable-gpu'],
		});
		t.teardown(() => chrome.close());
		const context = await chrome.newContext({
			viewport: {width: 1360, height: 900},
			permissions: ['clipboard-read', 'clipboard-write'],
		});
		const page = await context.newPage();
		const problems: string[] = [];
		page.on('console', (message) => {
			if (message.type() === 'error') {
				problems.push(message.text());
			}
		});
		page.on('pageerror', (error) => problems.push(error.message));
		await page.goto(`${url}/`);
		await page.getByRole('link', {name: 'Container images'}).click();
		const tags = await page
			.locator('#images tr.image-tag')
			.evaluateAll((rows) =>
				rows.map((row) => `${row.getAttribute('data-repository')}:${row.getAttribute('data-tag')}`),
			);
		t.deepEqual(tags, [
			'eck-dev/support-diagnostics:9.3.1',
			'eck/eck-operator:3.2.0',
			'elasticsearch/elasticsearch:9.1.3',
		]);
		await page.getByRole('button', {name: 'Copy --container-registry value'}).click();
		t.is(await page.evaluate('navigator.clipboard.readText()'), host);
		await page.getByRole('button', {name: 'Copy eck-diagnostics command'}).click();
		t.is(
			await page.evaluate('navigator.clipboard.readText()'),
			`eck-diagnostics --diagnostic-image ${host}/eck-dev/support-diagnostics:9.3.1`,
		);
		await page.locator('#images').screenshot({path: path.join(shots, 'images-desktop.png')});
		await page.setViewportSize({width: 390, height: 844});
		const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
		t.true(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
		await page.locator('#images').screenshot({path: path.join(shots, 'images-phone.png')});
		t.deepEqual(problems, [], 'console errors (a CSP violation shows up here)');
		t.log(`screenshots in ${shots}`);
	},
);
