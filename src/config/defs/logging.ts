/**
The logging options of `serve`.
*/
import {boolean, choice} from './kinds.js';
import {group} from './option.js';

/** Log levels, most verbose first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The access log, the line format and the lowest level logged. */
export const loggingDefs = group({
	accessLog: {
		...boolean,
		description: 'one JSON line per request on stdout; --no-access-log to turn off',
		default: true,
		negatable: true,
	},
	logFormat: {
		...choice(['json', 'ecs'] as const),
		description: 'log lines as plain JSON, or as ECS JSON (Elastic Common Schema) for an Elastic pipeline',
		default: 'json',
	},
	logLevel: {
		...choice(logLevels),
		arg: '<level>',
		description: `lowest level logged: ${logLevels.join(', ')} (warn and up leaves out the access log)`,
		default: 'info',
	},
});
