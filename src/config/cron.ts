/**
The check of a cron expression (`serve --sync-schedule`), kept on the config side
so that loading config needs nothing from the server.
*/
import {Cron} from 'croner';
import {UsageError} from '../errors.js';

/** Check a cron expression (5 fields, or 6 with seconds); throws UsageError. */
export function checkCronExpression(expression: string, label: string): string {
	try {
		new Cron(expression, {paused: true}).stop();
	} catch (error) {
		throw new UsageError(`invalid ${label} "${expression}": ${(error as Error).message}`);
	}

	return expression;
}
