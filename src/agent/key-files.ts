/**
The signing keys at the upstream root (GPG-KEY-*), mirrored when they hold only
trusted keys, so that clients that fetch them from the mirror get what they trust.
*/
import {NotFoundError} from '../errors.js';
import {checkKeyFile} from '../trust/keys.js';
import {keyFiles} from './catalog.js';
import {fail, joinUrl, type Outcome, type RunContext} from './context.js';

const keyMaxBytes = 1024 * 1024;

/** Mirror the signing keys at the upstream root, when they hold only trusted keys. */
export async function syncKeys(context: RunContext): Promise<Outcome[]> {
	const outcomes: Outcome[] = [];
	for (const name of keyFiles) {
		const url = joinUrl(context.upstream, name);
		try {
			const {body} = await context.client.fetch(url, {maxBytes: keyMaxBytes});
			let check: Awaited<ReturnType<typeof checkKeyFile>>;
			try {
				check = await checkKeyFile(body.toString('utf8'), context.trusted);
			} catch {
				context.emit({type: 'warning', message: `${name} upstream is not an armored PGP key; not mirrored`});
				continue;
			}

			if (check.untrusted.length > 0) {
				context.emit({
					type: 'warning',
					message: `${name} upstream holds key ${check.untrusted.join(', ')}, which is not a trusted key; not mirrored`,
				});
				continue;
			}

			const local = await context.store.readFile(name);
			if (local?.equals(body)) {
				context.writer.recordKey(name, body, check.fingerprints);
				outcomes.push('present');
			} else {
				const {sha512} = await context.writer.publishKey(name, body, check.fingerprints);
				context.emit({type: 'published', path: name, size: body.length, sha512, resumedFrom: 0});
				outcomes.push('published');
			}
		} catch (error) {
			if (error instanceof NotFoundError) {
				context.emit({type: 'warning', message: `upstream has no ${name}; not mirrored`});
				continue;
			}

			outcomes.push(fail(context, name, error));
		}
	}

	return outcomes;
}
