/**
What the helpers need from a test: a way to register cleanup. A test's own `t`
has it; hooks that set up state shared by a whole file (where ava refuses
`t.teardown`) use `sharedTeardown` and run it in `test.after.always`.
*/

/** Anything that accepts cleanup functions, like ava's `t`. */
export type Teardown = {teardown(fn: () => Promise<void> | void): void};

/** A teardown registry for `test.before` setups; call `run` from `test.after.always`. */
export function sharedTeardown(): Teardown & {run(): Promise<void>} {
	const steps: Array<() => Promise<void> | void> = [];
	return {
		teardown(fn) {
			steps.push(fn);
		},
		async run() {
			for (const step of steps.reverse()) {
				await step();
			}
		},
	};
}
