/**
The config of `export`: the bundle file, its part size, the selection and since
when, loaded and validated from export's options.
*/
import {platforms, products} from '../agent/catalog.js';
import type {Selection} from '../agent/select.js';
import {UsageError} from '../errors.js';
import {parseVersionSpecs} from '../versions.js';
import {exportOptionDefs} from './defs/bundle.js';
import {parseNames, parsePath, parseSize, splitList} from './parse.js';
import {type ConfigSources, createReader} from './sources.js';
import {readStore, type StoreChoice} from './store.js';

/** What `export` runs with. */
export type ExportConfig = StoreChoice & {
	readonly out: string;
	readonly splitSize: number | undefined;
	readonly selection: Selection;
	readonly since: Date | 'last' | undefined;
};

/** Load and validate `export`'s options. */
export function loadExportConfig(sources: ConfigSources): ExportConfig {
	const reader = createReader(sources, exportOptionDefs);
	const {get, orDefault} = reader;
	const {location} = readStore(sources, reader);
	const out = get('out');
	if (!out) {
		throw new UsageError('no --out given: a bundle file name, or - for stdout');
	}

	const list = (name: string, known: readonly string[], what: string) =>
		orDefault(
			name,
			(raw, origin) => parseNames(raw, origin, known, (item) => known.includes(item), what),
			undefined,
		);
	const outText = String(out.raw).trim();
	return {
		location,
		out: outText === '-' ? '-' : parsePath(outText, out.origin),
		splitSize: orDefault('split-size', (raw, origin) => parseSize(raw, origin, 1024 * 1024, '1M'), undefined),
		selection: {
			products: list(
				'products',
				products.map((product) => product.name),
				'product',
			),
			platforms: list(
				'platforms',
				platforms.map((platform) => platform.id),
				'platform',
			),
			versions: orDefault(
				'versions',
				(raw, origin) => parseVersionSpecs(splitList(raw), origin.label),
				undefined,
			),
		},
		since: orDefault(
			'since',
			(raw, origin) => {
				const text = String(raw).trim();
				if (text === 'last') {
					return 'last' as const;
				}

				const date = new Date(text);
				if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
					throw new UsageError(
						`invalid ${origin.label} "${text}": expected an ISO date (2026-11-01 or 2026-11-01T12:00Z) or last`,
					);
				}

				return date;
			},
			undefined,
		),
	};
}
