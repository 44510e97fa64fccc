/**
The memory bounds of a large download: young collections forced every few MiB a large
download receives (and never for a small one), and the young generation of a sync
held at its starting size while modules load.
*/
import {execFile} from 'node:child_process';
import {constants, PerformanceObserver} from 'node:perf_hooks';
import {promisify} from 'node:util';
import test from 'ava';
import {garbageCounter} from '../src/upstream/young-gc.js';

const run = promisify(execFile);

/** The forced young collections while `action` runs. */
async function forcedMinorCollections(action: () => void): Promise<number> {
	let count = 0;
	const observer = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			const detail = (entry as unknown as {detail?: {kind: number; flags: number}}).detail;
			if (
				detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR &&
				(detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0
			) {
				count++;
			}
		}
	});
	observer.observe({entryTypes: ['gc']});
	action();
	// gc entries are delivered after the collection, on a later turn.
	await new Promise((resolve) => setTimeout(resolve, 50));
	observer.disconnect();
	return count;
}

test('a large download forces a young collection every few MiB it receives', async (t) => {
	const garbage = garbageCounter(256 * 1024 * 1024);
	t.truthy(garbage);
	const forced = await forcedMinorCollections(() => {
		for (let chunk = 0; chunk < 256; chunk++) {
			garbage?.count(64 * 1024);
		}
	});
	garbage?.release();
	// 16 MiB received: about eight collections (the counter may carry bytes from before).
	t.true(forced >= 7 && forced <= 9, `${forced} forced young collections`);
});

test('a download of undeclared size counts too; a small one does not', (t) => {
	const undeclared = garbageCounter(undefined);
	t.truthy(undeclared);
	undeclared?.release();
	t.is(garbageCounter(5 * 1024 * 1024), undefined);
});

/**
The young generation's size in a child process that runs `setup` (with `holdForSync`
and `garbageCounter` in scope), then makes many objects that survive their first
collections, as loading modules does.
*/
async function newSpaceAfter(setup: string): Promise<number> {
	const script = `
		const {holdForSync} = await import(${JSON.stringify(new URL('../src/cli/young-generation.ts', import.meta.url).href)});
		const {garbageCounter} = await import(${JSON.stringify(new URL('../src/upstream/young-gc.ts', import.meta.url).href)});
		const v8 = await import('node:v8');
		${setup}
		const kept = [];
		for (let index = 0; index < 400_000; index++) kept.push({index, text: 'x' + index});
		const space = v8.getHeapSpaceStatistics().find((each) => each.space_name === 'new_space');
		process.stdout.write(String(space.space_size + kept.length * 0));
	`;
	const {stdout} = await run(process.execPath, ['--import=tsx/esm', '--input-type=module', '-e', script]);
	return Number(stdout);
}

test('a sync holds the young generation until its downloads begin, and through a large one', async (t) => {
	const [sync, serve, afterSmall, inLarge] = await Promise.all([
		newSpaceAfter("holdForSync(['sync', '--dir', 'x']);"),
		newSpaceAfter("holdForSync(['serve']);"),
		newSpaceAfter("holdForSync(['sync']); garbageCounter(1024);"),
		newSpaceAfter("holdForSync(['sync']); garbageCounter(1024); garbageCounter(undefined);"),
	]);
	t.true(sync <= 4 * 1024 * 1024, `sync: ${sync} bytes of young generation`);
	t.true(inLarge <= 4 * 1024 * 1024, `in a large download: ${inLarge} bytes`);
	t.true(serve > sync, `serve: ${serve} bytes, sync: ${sync}`);
	t.true(afterSmall > sync, `after a small download began: ${afterSmall} bytes, before: ${sync}`);
});
