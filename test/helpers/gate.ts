/**
Tests that need something outside the project (the S3 server, chromium). When it
is missing they are skipped with the reason printed, or, in CI (`CI=true`), they
fail with that reason: a CI run must not pass with whole suites left out.
*/
import test, {type ExecutionContext} from 'ava';
import {isCi, type Prerequisite} from './prerequisites.js';

/** How the gated files declare tests: a title and an implementation. */
type TestFn = (title: string, implementation: (t: ExecutionContext) => PromiseLike<void> | void) => void;

/** The `test` to declare tests with that need `prerequisite` (`what` names them in messages). */
export function gatedTest(what: string, prerequisite: Prerequisite, {serial = false} = {}): TestFn {
	const run = serial ? test.serial : test;
	if (prerequisite.ok) {
		return run;
	}

	if (isCi()) {
		return (title) =>
			run(title, (t) => {
				t.fail(`${what} could not run: ${prerequisite.reason}`);
			});
	}

	console.warn(`SKIPPING ${what}: ${prerequisite.reason}`);
	return test.skip;
}
