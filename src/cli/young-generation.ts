/**
The young generation of a sync's heap. V8 doubles its semi-spaces (up to 16 MiB each)
whenever many objects survive a collection, which loading the modules at start does
every time; a sync then carries 10 MiB or more of young generation it never fills
again, since what it allocates while downloading dies young. The growth factor is
read at each growth, so setting it before the modules load keeps the semi-spaces at
their starting size for the whole run. Serve and the other commands keep V8's default.
*/
import v8 from 'node:v8';

/** Keep the young generation at its starting size when `args` run a sync. */
export function fixYoungGeneration(args: readonly string[]): void {
	if (args[0] === 'sync') {
		v8.setFlagsFromString('--semi-space-growth-factor=1');
	}
}
