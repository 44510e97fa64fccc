/**
The `.sha512` sidecar, read exactly as Elastic Agent reads it, so that the mirror never
serves a sidecar the agent would reject.
*/
import {ChecksumError, SidecarError} from '../errors.js';

const sha512Hex = /^[0-9a-f]{128}$/;

/**
The hash a `.sha512` sidecar gives for `fileName`, read as the agent reads it: each
line split on white space must have exactly two fields, `<hash> <name>` with an
optional `*` before the name, and the name must be the file's base name. A bare hash
is rejected, because the agent rejects it.
*/
export function parseSha512Sidecar(text: string, fileName: string): string {
	if (text.includes('\0')) {
		throw new SidecarError(`${fileName}.sha512 is not text`);
	}

	for (const line of text.split('\n')) {
		const fields = line.trim().split(/\s+/);
		if (fields.length !== 2) {
			continue;
		}

		const [hash = '', rawName = ''] = fields;
		const name = rawName.startsWith('*') ? rawName.slice(1) : rawName;
		if (name !== fileName) {
			continue;
		}

		// The agent compares against Go's lowercase hex encoding, byte for byte.
		if (!sha512Hex.test(hash)) {
			throw new SidecarError(
				`${fileName}.sha512 is malformed: "${hash.slice(0, 20)}..." is not a lowercase sha512`,
			);
		}

		return hash;
	}

	throw new SidecarError(
		`${fileName}.sha512 is malformed: no "<sha512>  ${fileName}" line (the agent needs one)`,
	);
}

/** Compare a computed digest with the sidecar's. */
export function checkSha512(fileName: string, actual: string, expected: string): void {
	if (actual !== expected) {
		throw new ChecksumError(
			`sha512 mismatch for ${fileName}: upstream sidecar says ${expected.slice(0, 16)}..., file is ${actual.slice(0, 16)}...`,
		);
	}
}
