/** Small formatters for human output: the CLI and the pages. */

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}

	return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** 65432 → "65.4 s"; 125000 → "2 min 5 s". */
export function formatDuration(ms: number): string {
	if (ms < 1000) {
		return `${Math.round(ms)} ms`;
	}

	if (ms < 60_000) {
		return `${(ms / 1000).toFixed(1)} s`;
	}

	const seconds = Math.round(ms / 1000);
	return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
/** A UTC time, to the minute, unambiguous in every locale. */
export function formatTime(iso: string): string {
	const date = new Date(iso);
	return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** How long ago, roughly: "3 minutes ago". */
export function formatAge(iso: string, now: number): string {
	const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
	const steps: Array<[number, string]> = [
		[86_400, 'day'],
		[3600, 'hour'],
		[60, 'minute'],
	];
	for (const [size, name] of steps) {
		if (seconds >= size) {
			const count = Math.floor(seconds / size);
			return `${count} ${name}${count === 1 ? '' : 's'} ago`;
		}
	}

	return 'just now';
}
