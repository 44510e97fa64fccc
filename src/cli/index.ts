#!/usr/bin/env node
import process from 'node:process';
import type {CliContext} from './program.js';
import {holdForSync} from './young-generation.js';

// Before the modules load: their loading is what would grow the young generation.
holdForSync(process.argv.slice(2));
const [{releaseHeldLocks}, {main}] = await Promise.all([import('../store/held.js'), import('./program.js')]);

const context: CliContext = {
	env: process.env,
	cwd: process.cwd(),
	stdoutIsTty: Boolean(process.stdout.isTTY),
	stderrIsTty: Boolean(process.stderr.isTTY),
};

// `artifact-mirror sync --help | head`: a reader that went away is not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EPIPE') {
		process.exit(process.exitCode ?? 0);
	}

	throw error;
});

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	process.on(signal, () => {
		// serve drains and reloads on its own terms.
		if (context.onSignal) {
			context.onSignal(signal);
			return;
		}

		// Ctrl-C or a service manager's stop during sync, import, prune or verify:
		// release the lock (after the write under way finishes; none starts after), so
		// the next run on any host can start, and leave the terminal tidy. Partial
		// downloads stay in the temp folder and the next run resumes them.
		if (interrupted) {
			return;
		}

		interrupted = true;
		void (async () => {
			await releaseHeldLocks();
			await context.onAbort?.();
			process.stderr.write(
				`\ninterrupted by ${signal}; partial downloads are kept and resumed by the next run\n`,
			);
			process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
		})();
	});
}

process.exitCode = await main(process.argv.slice(2), context);
if (context.onSignal) {
	// serve returns once it has drained and given back any lock; a scheduled sync it
	// stopped may still be winding down a download that nothing will publish.
	process.exit();
}
