import path from 'node:path';
import {type Browser, chromium} from 'playwright-core';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {browserPrerequisite, chromiumPath} from './helpers/prerequisites.js';
import {tempDir} from './helpers/temp.js';
import {withMirror} from './helpers/with-server.js';

// CI installs Debian's chromium (.ci/run); elsewhere the test says why it did not run.
const browserTest = gatedTest('the browser test', browserPrerequisite());

async function launch(): Promise<Browser> {
	return chromium.launch({
		executablePath: chromiumPath,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-quic',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	});
}

browserTest(
	'the catalogue lists versions newest first, copies an upgrade command, and works without JavaScript',
	async (t) => {
		const mirror = await withMirror(t, await createTestKey(), {
			versions: ['8.19.4', '9.1.2', '9.1.3', '9.2.0-SNAPSHOT'],
			products: ['elastic-agent', 'fleet-server'],
			platforms: ['linux-x86_64', 'linux-arm64', 'windows-x86_64', 'darwin-aarch64'],
			fips: true,
			size: 3 * 1024 * 1024,
		});
		// SCREENSHOT_DIR keeps them for a look after the run; by default they go with the temp dir.
		const shots = process.env.SCREENSHOT_DIR ?? (await tempDir(t, 'screenshots-'));
		const browser = await launch();
		t.teardown(() => browser.close());

		const context = await browser.newContext({
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
		await page.goto(`${mirror.url}/`);
		t.is(await page.title(), 'Elastic Artifact Mirror');

		const agentVersions = await page
			.locator('#elastic-agent tr.version')
			.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-version')));
		t.deepEqual(agentVersions, ['9.2.0-SNAPSHOT', '9.1.3', '9.1.2', '8.19.4']);
		const headers = await page.locator('#elastic-agent thead th').allTextContents();
		t.deepEqual(headers, ['Version', 'linux-x86_64', 'linux-arm64', 'darwin-aarch64', 'windows-x86_64']);
		t.is(await page.locator('#fleet-server tr.version').count(), 4);
		t.is(await page.locator('#elastic-agent-fips tr.version').count(), 4);
		t.true((await page.locator('.status').textContent())?.includes('succeeded'));
		t.true((await page.locator('#elastic-agent').textContent())?.includes('3.0 MiB'));

		const expected = `elastic-agent upgrade 9.1.3 --source-uri ${mirror.url}/downloads/`;
		const button = page.getByRole('button', {name: 'Copy upgrade command for 9.1.3'});
		await button.click();
		t.is(await page.evaluate('navigator.clipboard.readText()'), expected);
		t.is(await button.textContent(), 'Copied');

		await page.getByRole('button', {name: 'Copy download host'}).click();
		t.is(await page.evaluate('navigator.clipboard.readText()'), `${mirror.url}/downloads/`);

		const link = page.locator('#elastic-agent tr[data-version="9.1.3"] a.file').first();
		t.is(
			await link.getAttribute('href'),
			// Relative, so that a proxy may mount the server below a path (issue 14 item 25).
			'./downloads/beats/elastic-agent/elastic-agent-9.1.3-linux-x86_64.tar.gz',
		);
		await page.screenshot({path: path.join(shots, 'catalogue-desktop.png'), fullPage: true});

		await page.setViewportSize({width: 390, height: 844});
		await page.screenshot({path: path.join(shots, 'catalogue-phone.png'), fullPage: true});
		t.true(await page.locator('#elastic-agent tr[data-version="9.1.3"]').isVisible());
		// Strings, not functions: they run in the page, and this project compiles without DOM types.
		const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
		t.true(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
		t.deepEqual(problems, [], 'console errors (a CSP violation shows up here)');

		const noScript = await browser.newContext({javaScriptEnabled: false});
		const plain = await noScript.newPage();
		await plain.goto(`${mirror.url}/`);
		t.is(await plain.locator('#elastic-agent tr.version').count(), 4);
		t.true((await plain.locator('#elastic-agent').textContent())?.includes(expected));
		t.false(await plain.locator('button.copy').first().isVisible());
		t.log(`screenshots in ${shots}`);
	},
);

browserTest('on a phone, listings keep file names readable; the cards keep their own heights', async (t) => {
	const mirror = await withMirror(t, await createTestKey(), {
		versions: ['9.1.3', '9.2.0-SNAPSHOT'],
		products: ['elastic-agent'],
		platforms: ['linux-x86_64', 'windows-x86_64', 'darwin-aarch64'],
		fips: true,
	});
	const shots = process.env.SCREENSHOT_DIR ?? (await tempDir(t, 'screenshots-'));
	const browser = await launch();
	t.teardown(() => browser.close());

	const desktop = await (await browser.newContext({viewport: {width: 1360, height: 900}})).newPage();
	await desktop.goto(`${mirror.url}/`);
	const box = async (selector: string) => {
		const found = await desktop.locator(selector).boundingBox();
		if (!found) {
			throw new Error(`${selector} is not on the page`);
		}

		return found;
	};
	const status = await box('section.status');
	const setup = await box('section.setup');
	t.is(Math.round(status.y), Math.round(setup.y), 'the cards sit side by side');
	t.true(
		status.height < setup.height - 40,
		`the Last sync card (${status.height}px) is not stretched to the Fleet card (${setup.height}px)`,
	);
	await desktop.screenshot({path: path.join(shots, 'cards-desktop.png')});

	const phone = await (
		await browser.newContext({viewport: {width: 375, height: 812}, isMobile: true})
	).newPage();
	await phone.goto(`${mirror.url}/downloads/beats/elastic-agent/`);
	await phone.screenshot({path: path.join(shots, 'listing-phone.png')});
	const widths = (await phone
		.locator('table.listing tbody tr.file td:first-child')
		.evaluateAll((cells) => cells.map((cell) => cell.getBoundingClientRect().width))) as number[];
	t.true(widths.length > 5);
	for (const width of widths) {
		t.true(width >= 250, `a file name column ${width}px wide on a 375px screen`);
	}
	const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
	t.true(overflow <= 0, `the listing scrolls sideways by ${overflow}px`);
	t.log(`screenshots in ${shots}`);
});
