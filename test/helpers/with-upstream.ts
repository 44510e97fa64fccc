/** A fake upstream, an empty mirror directory and the trusted key file, all torn down after the test. */

import {type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream} from './fake-upstream.js';
import type {TestKey} from './keys.js';
import type {Teardown} from './teardown.js';
import {tempDir} from './temp.js';

export type WithUpstream = {upstream: FakeUpstream; dir: string; keyPath: string};

/** Start the upstream signed by `key`, with `options`; the mirror directory starts empty. */
export async function withUpstream(
	t: Teardown,
	key: TestKey,
	options: Omit<FakeUpstreamOptions, 'key'>,
): Promise<WithUpstream> {
	const upstream = await startFakeUpstream({key, ...options});
	t.teardown(() => upstream.close());
	const dir = await tempDir(t);
	const keyPath = await key.writePublic(await tempDir(t, 'keys-'));
	return {upstream, dir, keyPath};
}
