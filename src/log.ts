/**
The JSON-lines logger: one object per line, ISO times, level names, written
synchronously so that nothing is lost when a CLI command exits.
*/
import {type Logger, pino} from 'pino';

/** A logger writing JSON lines to a file descriptor (stdout by default). */
export function createLogger(fd = 1): Logger {
	return pino(
		{
			base: null,
			timestamp: pino.stdTimeFunctions.isoTime,
			formatters: {level: (label) => ({level: label})},
		},
		pino.destination({fd, sync: true}),
	);
}
