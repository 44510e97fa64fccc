/** The catalogue's Packages section in a real browser: icons from inside the zips, the settings to copy, a phone. */
import path from 'node:path';
import {chromium} from 'playwright-core';
import {dirLocation} from '../src/store/location.js';
import {standardPackages, startFakeRegistry} from './helpers/fake-registry.js';
import {gatedTest} from './helpers/gate.js';
import {createTestKey} from './helpers/keys.js';
import {publishPackages} from './helpers/package-mirror.js';
import {browserPrerequisite, chromiumPath} from './helpers/prerequisites.js';
import {tempDir} from './helpers/temp.js';
import {withServer} from './helpers/with-server.js';

const browserTest = gatedTest('the browser test', browserPrerequisite());

browserTest(
	'the Packages section shows icons, versions and Kibana settings that copy, on a desktop and a phone',
	async (t) => {
		const key = await createTestKey();
		const fake = await startFakeRegistry({
			key,
			packages: standardPackages.filter((spec) => !spec.badSignature),
		});
		t.teardown(() => fake.close());
		const dir = await tempDir(t, 'browser-packages-');
		await publishPackages(dirLocation(dir), fake.packages);
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
		const names = await page.locator('#packages tr.package code').allTextContents();
		t.deepEqual(names, [
			'apache_dashboards',
			'apache_otel',
			'aws',
			'filelog_input',
			'nginx',
			'security_ai',
			'system',
			'tomcat',
		]);
		const nginxVersions = await page
			.locator('#package-nginx li')
			.evaluateAll((items) => items.map((item) => item.getAttribute('data-version')));
		t.deepEqual(nginxVersions, ['2.1.0-beta.1', '2.0.0', '1.5.0', '1.0.0']);
		// Every icon loads from inside its zip (a CSP or type problem would leave it broken).
		await page.locator('#packages').scrollIntoViewIfNeeded();
		await page.waitForFunction(
			"[...document.querySelectorAll('#packages img.package-icon')].every((img) => img.complete)",
		);
		const broken = Number(
			await page.evaluate(
				"[...document.querySelectorAll('#packages img.package-icon')].filter((img) => img.naturalWidth === 0).length",
			),
		);
		t.is(broken, 0);
		await page.getByRole('button', {name: 'Copy Kibana settings'}).click();
		t.is(
			await page.evaluate('navigator.clipboard.readText()'),
			`xpack.fleet.registryUrl: "${url}"\nxpack.fleet.isAirGapped: true`,
		);
		await page.locator('#packages').screenshot({path: path.join(shots, 'packages-desktop.png')});
		await page.setViewportSize({width: 390, height: 844});
		const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
		t.true(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
		await page.locator('#packages').screenshot({path: path.join(shots, 'packages-phone.png')});
		t.deepEqual(problems, [], 'console errors (a CSP violation shows up here)');
		t.log(`screenshots in ${shots}`);
	},
);
