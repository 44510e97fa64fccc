/**
The young generation of a sync's heap while its modules load. V8 doubles its
semi-spaces (up to 16 MiB each) whenever many objects survive a collection, which
loading modules does every time; a sync would then carry 10 MiB or more of young
generation that a download, whose garbage dies young, never needs. It is held at
its starting size until the first download (upstream/young-gc.ts, which also holds
it through each large download). Serve and the other commands keep V8's default.
*/
import {holdUntilDownloads} from '../upstream/young-gc.js';

/** When `args` run a sync, hold the young generation until its downloads begin. */
export function holdForSync(args: readonly string[]): void {
	if (args[0] === 'sync') {
		holdUntilDownloads();
	}
}
