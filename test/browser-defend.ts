/** The catalogue's Defend protections section in a real browser: versions, a stale warning, settings that copy, a phone. */
import path from 'node:path';
import {chromium} from 'playwright-core';
import {dirLocation} from '../src/store/location.js';
import {publishDefend} from './helpers/defend-mirror.js';
import {standardDefendVersions, startFakeSecurityHost} from './helpers/fake-security.js';
import {gatedTest} from './helpers/gate.js';
import {browserPrerequisite, chromiumPath} from './helpers/prerequisites.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const browserTest = gatedTest('the browser test', browserPrerequisite());

browserTest(
	'the Defend protections section lists versions, flags a stale manifest and copies the policy settings, on a desktop and a phone',
	async (t) => {
		const host = await startFakeSecurityHost({versions: standardDefendVersions});
		t.teardown(() => host.close());
		const dir = await tempDir(t, 'browser-defend-');
		await publishDefend(dirLocation(dir), host, ['8.19.3'], {
			refreshedAt: new Date(Date.now() - 45 * 24 * 3600 * 1000),
		});
		await publishDefend(dirLocation(dir), host, ['9.0.7', '9.1.3']);
		const {url} = await withServer(t, dir);
		const shots = process.env.SCREENSHOT_DIR ?? (await tempDir(t, 'screenshots-'));
		const browser = await chromium.launch({
			executablePath: chromiumPath,
			args: ['--no-sandbox', '--disable-gpu'],
		});
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
		await page.goto(`${url}/`);
		await page.getByRole('link', {name: 'Defend protections'}).click();
		const versions = await page
			.locator('#defend tr.defend-version')
			.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-version')));
		t.deepEqual(versions, ['9.1.3', '9.0.7', '8.19.3']);
		t.is(await page.locator('#defend .badge.warn').count(), 1);
		t.true(await page.locator('#defend-8\\.19\\.3 .badge.warn').isVisible());
		await page.getByRole('button', {name: 'Copy Elastic Defend settings'}).click();
		t.is(
			await page.evaluate('navigator.clipboard.readText()'),
			['linux', 'mac', 'windows'].map((os) => `${os}.advanced.artifacts.global.base_url: ${url}`).join('\n'),
		);
		// The manifest link downloads the zip itself.
		const download = page.waitForEvent('download');
		await page.locator('#defend-9\\.1\\.3 a.file').click();
		t.is((await download).suggestedFilename(), 'artifacts-9.1.3.zip');
		await page.locator('#defend').screenshot({path: path.join(shots, 'defend-desktop.png')});
		await page.setViewportSize({width: 390, height: 844});
		const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
		t.true(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
		await page.locator('#defend').screenshot({path: path.join(shots, 'defend-phone.png')});
		t.deepEqual(problems, [], 'console errors (a CSP violation shows up here)');
		t.log(`screenshots in ${shots}`);
	},
);
