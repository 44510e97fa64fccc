/**
The JSON-lines logger: one object per line, ISO times, level names, written
synchronously so that nothing is lost when a CLI command exits. In ECS format
(`--log-format ecs`) the lines follow the Elastic Common Schema, so an Elastic
pipeline indexes them as they are: ECS maps `url` and `event` as objects, so our
plain `url` and `event` fields are renamed to their ECS places.
*/
import {ecsFormat} from '@elastic/ecs-pino-format';
import {type Logger, type LoggerOptions, pino} from 'pino';
import {packageVersion} from './meta.js';

/** How lines are written. */
export type LogOptions = {
	/** Plain JSON (default), or ECS JSON. */
	readonly format?: 'json' | 'ecs' | undefined;
	/** Lowest level written (default info). */
	readonly level?: string | undefined;
};

/** Our field names and where ECS keeps the same facts. */
const ecsNames: Record<string, string> = {
	method: 'http.request.method',
	status: 'http.response.status_code',
	bytes: 'http.response.body.bytes',
	ip: 'client.ip',
	ua: 'user_agent.original',
	tls: 'mirror.tls',
	dir: 'mirror.dir',
};

/** One log object with its fields moved to their ECS names. */
export function toEcsFields(fields: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(fields)) {
		if (name === 'msg') {
			out.message = value;
		} else if (name === 'url' && typeof value === 'string') {
			// A request's path and query, or a whole URL (the address the server listens at).
			if (value.startsWith('/')) {
				out['url.original'] = value;
				out['url.path'] = value.split('?')[0];
			} else {
				out['url.full'] = value;
			}
		} else if (name === 'event' && typeof value === 'string') {
			out['event.action'] = value;
		} else if (name === 'event' && value && typeof value === 'object') {
			// A sync event (scheduled sync): its kind is the action, the rest is ours.
			out['event.action'] = (value as {type?: unknown}).type;
			out['mirror.event'] = value;
		} else if (name === 'ms' && typeof value === 'number') {
			out['event.duration'] = Math.round(value * 1e6);
		} else {
			out[ecsNames[name] ?? name] = value;
		}
	}

	return out;
}

function ecsOptions(): LoggerOptions {
	const options = ecsFormat({
		apmIntegration: false,
		serviceName: 'elastic-artifact-mirror',
		serviceVersion: packageVersion,
	});
	const ecsLog = options.formatters?.log;
	return {
		...options,
		formatters: {
			...options.formatters,
			log: (fields) => {
				const renamed = toEcsFields(fields);
				return ecsLog ? ecsLog(renamed) : renamed;
			},
		},
	};
}

/** A logger writing JSON lines to a file descriptor (stdout by default). */
export function createLogger(fd = 1, options: LogOptions = {}): Logger {
	const level = options.level ?? 'info';
	const destination = pino.destination({fd, sync: true});
	if (options.format === 'ecs') {
		return pino({...ecsOptions(), level}, destination);
	}

	return pino(
		{
			base: null,
			level,
			timestamp: pino.stdTimeFunctions.isoTime,
			formatters: {level: (label) => ({level: label})},
		},
		destination,
	);
}
