/**
A floor under a transfer's speed. Inactivity timeouts never fire on an upstream that
trickles a byte every few seconds; this does: a transfer that moves fewer than
`bytesPerSecond × window` bytes in any whole window is too slow.
*/

/** The minimum speed, as configured (`--min-speed`, `--min-speed-window`). */
export type MinSpeed = {
	/** 0 turns the check off. */
	readonly bytesPerSecond: number;
	readonly windowMs: number;
};

/** Counts a transfer's bytes; stop it when the transfer ends, whatever the outcome. */
export type RateWatch = {
	add(bytes: number): void;
	stop(): void;
};

/**
Watch a transfer from now on; `tooSlow` is called once, with the speed measured, when
a whole window passes below the floor.
*/
export function watchRate(
	minSpeed: MinSpeed | undefined,
	tooSlow: (bytesPerSecond: number) => void,
): RateWatch {
	if (!minSpeed || minSpeed.bytesPerSecond <= 0 || minSpeed.windowMs <= 0) {
		return {add() {}, stop() {}};
	}

	const needed = (minSpeed.bytesPerSecond * minSpeed.windowMs) / 1000;
	let inWindow = 0;
	// Whole windows, back to back: cheap, and a trickle fails within two windows at most.
	const timer = setInterval(() => {
		if (inWindow < needed) {
			clearInterval(timer);
			tooSlow((inWindow * 1000) / minSpeed.windowMs);
		}

		inWindow = 0;
	}, minSpeed.windowMs);
	timer.unref();
	return {
		add(bytes) {
			inWindow += bytes;
		},
		stop() {
			clearInterval(timer);
		},
	};
}
