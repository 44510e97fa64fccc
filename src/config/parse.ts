/**
The value parsers: a raw value (from a flag, the environment or the YAML config
file) and where it came from go in; a checked value comes out, or a UsageError
that names the origin.
*/
import {existsSync} from 'node:fs';
import path from 'node:path';
import {UsageError} from '../errors.js';
import {redactText} from '../redact.js';
import {suggest} from '../suggest.js';

/** A raw value as it arrives: a flag's string or on/off, an environment variable, or any YAML value. */
export type Raw = unknown;

/** Where a value came from, to name it in errors and to resolve relative paths. */
export type Origin = {label: string; baseDir: string};

/** A list from YAML or from a comma-separated string, items trimmed, empty ones dropped. */
export function splitList(raw: Raw): string[] {
	const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
	return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** true/false, 1/0, yes/no, on/off (any case); a YAML or flag boolean as it is. */
export function parseBoolean(raw: Raw, origin: Origin): boolean {
	if (typeof raw === 'boolean') {
		return raw;
	}

	const text = String(raw).trim().toLowerCase();
	if (['1', 'true', 'yes', 'on'].includes(text)) {
		return true;
	}

	if (['0', 'false', 'no', 'off', ''].includes(text)) {
		return false;
	}

	throw new UsageError(`invalid ${origin.label} "${String(raw)}": expected true or false`);
}

/** A whole number from `min` to `max`. */
export function parseInteger(raw: Raw, origin: Origin, min: number, max: number): number {
	const text = String(raw).trim();
	const value = Number(text);
	if (!/^\d+$/.test(text) || value < min || value > max) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected a whole number from ${min} to ${max}`);
	}

	return value;
}

/** A number from `min` to `max`, fractions allowed. */
export function parseNumber(raw: Raw, origin: Origin, min: number, max: number): number {
	const text = String(raw).trim();
	const value = Number(text);
	if (text === '' || !Number.isFinite(value) || value < min || value > max) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected a number from ${min} to ${max}`);
	}

	return value;
}

// Bytes per size suffix, binary (K = 1024).
const sizeUnits: Record<string, number> = {'': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4};

/** A size in bytes written like 4G, 700M or 1048576, at least `min` bytes. */
export function parseSize(raw: Raw, origin: Origin, min: number, minText: string): number {
	const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(String(raw).trim());
	const size = match ? Math.floor(Number(match[1]) * (sizeUnits[(match[2] ?? '').toUpperCase()] ?? 1)) : 0;
	if (size < min) {
		throw new UsageError(
			`invalid ${origin.label} "${String(raw)}": expected a size of at least ${minText}, like 4G or 700M`,
		);
	}

	return size;
}

/** An http:// or https:// URL without its trailing slashes; credentials are redacted in the error. */
export function parseUrl(raw: Raw, origin: Origin): string {
	const text = String(raw).trim();
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new UsageError(
			`invalid ${origin.label} "${redactText(text)}": expected an http:// or https:// URL`,
		);
	}

	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new UsageError(
			`invalid ${origin.label} "${redactText(text)}": expected an http:// or https:// URL`,
		);
	}

	return text.replace(/\/+$/, '');
}

/** A path resolved from the folder of the file that gave it, or the working directory. */
export function parsePath(raw: Raw, origin: Origin): string {
	const text = String(raw).trim();
	if (text === '') {
		throw new UsageError(`invalid ${origin.label}: empty path`);
	}

	return path.resolve(origin.baseDir, text);
}

/** A path that must exist; `what` names it in the error. */
export function readablePath(raw: Raw, origin: Origin, what: string): string {
	const file = parsePath(raw, origin);
	if (!existsSync(file)) {
		throw new UsageError(`${what} ${file} (from ${origin.label}) does not exist`);
	}

	return file;
}

/** Known names or `all`; an unknown one is an error with the nearest known name. */
export function parseNames(
	raw: Raw,
	origin: Origin,
	known: readonly string[],
	exists: (name: string) => boolean,
	what: string,
): string[] {
	const names = splitList(raw);
	if (names.length === 1 && names[0] === 'all') {
		return [...known];
	}

	for (const name of names) {
		if (!exists(name)) {
			const near = suggest(name, known);
			const hint = near ? `; did you mean "${near}"?` : `; known: ${known.join(', ')}`;
			throw new UsageError(`unknown ${what} "${name}" in ${origin.label}${hint}`);
		}
	}

	if (names.length === 0) {
		throw new UsageError(`${origin.label} is empty`);
	}

	return [...new Set(names)];
}

/** One of `choices`, any case. */
export function parseChoice<T extends string>(raw: Raw, origin: Origin, choices: readonly T[]): T {
	const text = String(raw).trim().toLowerCase();
	if (!(choices as readonly string[]).includes(text)) {
		const expected = choices.length === 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`;
		throw new UsageError(`invalid ${origin.label} "${String(raw)}": expected ${expected}`);
	}

	return text as T;
}

/** host:port (IPv6 in brackets); an empty host is 0.0.0.0. */
export function parseAddress(raw: Raw, origin: Origin): {host: string; port: number} {
	const text = String(raw).trim();
	const match = /^(\[[\da-fA-F:]+\]|[\w.-]*):(\d{1,5})$/.exec(text);
	const port = Number(match?.[2]);
	if (!match || port > 65_535) {
		throw new UsageError(`invalid ${origin.label} "${text}": expected host:port, e.g. 127.0.0.1:9464`);
	}

	return {host: (match[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port};
}
