/** The lock another host's sync leaves behind, for tests of takeover and of respecting a live holder. */

/**
A lock as a sync on another host (a CronJob's pod) leaves it, its lease ending at
`expiresAt`: the fields of a directory lock file and of an S3 lease object both.
*/
export function foreignLock(expiresAt: Date): string {
	return JSON.stringify({
		pid: 4242,
		host: 'cronjob-pod-1',
		startedAt: '2026-01-01T00:00:00.000Z',
		token: 'remote',
		renewedAt: new Date(expiresAt.getTime() - 120_000).toISOString(),
		expiresAt: expiresAt.toISOString(),
	});
}
