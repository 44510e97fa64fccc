#!/usr/bin/env node
import process from 'node:process';
import {type CliContext, main} from './program.js';

const context: CliContext = {
	env: process.env,
	cwd: process.cwd(),
	stdoutIsTty: Boolean(process.stdout.isTTY),
};

// Ctrl-C or a service manager's stop: leave the terminal tidy. Partial downloads
// stay in the temp folder and the next run resumes them; the lock of a dead
// process is taken over, so nothing else needs undoing.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, () => {
		void (async () => {
			await context.onAbort?.();
			process.stderr.write(
				`\ninterrupted by ${signal}; partial downloads are kept and resumed by the next run\n`,
			);
			process.exit(signal === 'SIGINT' ? 130 : 143);
		})();
	});
}

process.exitCode = await main(process.argv.slice(2), context);
