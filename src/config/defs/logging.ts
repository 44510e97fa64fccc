/**
The logging options of `serve`: the access log, the line format and the level.
*/
import {boolean, choice} from './kinds.js';
import {option} from './option.js';

/** Log levels, most verbose first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One JSON line per request. */
export const accessLogOption = option({
	name: 'access-log',
	env: ['MIRROR_ACCESS_LOG'],
	description: 'one JSON line per request on stdout; --no-access-log to turn off',
	default: true,
	negatable: true,
	...boolean,
});

/** Plain JSON or ECS JSON. */
export const logFormatOption = option({
	name: 'log-format',
	arg: '<json|ecs>',
	env: ['MIRROR_LOG_FORMAT'],
	description: 'log lines as plain JSON, or as ECS JSON (Elastic Common Schema) for an Elastic pipeline',
	default: 'json',
	...choice(['json', 'ecs'] as const),
});

/** The lowest level logged. */
export const logLevelOption = option({
	name: 'log-level',
	arg: '<level>',
	env: ['MIRROR_LOG_LEVEL'],
	description: `lowest level logged: ${logLevels.join(', ')} (warn and up leaves out the access log)`,
	default: 'info',
	...choice(logLevels),
});
