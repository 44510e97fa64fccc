/**
The option lists of `export` and `import`. Export's selection is flags only, so a
config file's sync selection never narrows a bundle.
*/
import {UsageError} from '../../errors.js';
import {type PackageRequest, parsePackageRequests, requestText} from '../../packages/catalog.js';
import {parseVersionSpecs, type VersionSpec} from '../../versions.js';
import {parsePath, splitList} from '../parse.js';
import {size, text} from './kinds.js';
import {group} from './option.js';
import {selectionDefs} from './selection.js';
import {commonOptions} from './store.js';
import {upstreamDefs} from './upstream.js';

/** A selection option of sync as an export flag: flags only, and all when absent. */
function selectionFlag<O extends (typeof selectionDefs)['products' | 'platforms' | 'versions']>(
	selection: O,
	what: string,
) {
	const {default: _sync, ...rest} = selection as O & {default?: unknown};
	return {
		...rest,
		flagOnly: true,
		description: `only these ${selection.name}: ${what}`,
		defaultText: 'all',
	} as const;
}

/** Export's own options: the bundle file (or - for stdout), its part size, the selection and since when. */
export const exportDefs = group({
	out: {
		arg: '<file>',
		description: 'bundle file to write, or - for stdout',
		defaultText: 'required',
		flagOnly: true,
		...text((raw, origin) => {
			const value = String(raw).trim();
			return value === '-' ? '-' : parsePath(value, origin);
		}),
	},
	splitSize: {
		...size(1024 * 1024, '1M'),
		description: 'write numbered parts (<file>.001, .002, ...) of at most this size: 4G, 700M',
		defaultText: 'one file',
		flagOnly: true,
	},
	products: selectionFlag(selectionDefs.products, 'comma-separated'),
	versions: selectionFlag(selectionDefs.versions, 'exact, ranges and latest, against what the mirror holds'),
	platforms: selectionFlag(selectionDefs.platforms, 'comma-separated'),
	packages: {
		arg: '<list>',
		description:
			'only these package versions (nginx, nginx@1.2.3, all) and those they require, or none; alone, no binaries',
		defaultText: 'all',
		flagOnly: true,
		...text((raw, origin): readonly PackageRequest[] | 'none' => {
			const values = splitList(raw);
			if (values.length === 1 && values[0]?.trim() === 'none') {
				return 'none';
			}

			return parsePackageRequests(values, origin.label);
		}),
		show: (value: readonly PackageRequest[] | 'none') => (value === 'none' ? value : value.map(requestText)),
	},
	defendArtifacts: {
		arg: '<list>',
		description:
			'only the Elastic Defend protections of these versions (exact, ranges and latest, against what the mirror holds), or none; alone, no binaries or packages',
		defaultText: 'all',
		flagOnly: true,
		...text((raw, origin): readonly VersionSpec[] | 'none' => {
			const values = splitList(raw);
			if (values.length === 1 && values[0]?.trim() === 'none') {
				return 'none';
			}

			return parseVersionSpecs(values, origin.label);
		}),
		show: (value: readonly VersionSpec[] | 'none') =>
			value === 'none' ? value : value.map((spec) => spec.text),
	},
	since: {
		arg: '<date|last>',
		description: 'only files published after this ISO date, or after the previous export (last)',
		defaultText: 'everything',
		flagOnly: true,
		...text((raw, origin): Date | 'last' => {
			const value = String(raw).trim();
			if (value === 'last') {
				return 'last';
			}

			const date = new Date(value);
			if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
				throw new UsageError(
					`invalid ${origin.label} "${value}": expected an ISO date (2026-11-01 or 2026-11-01T12:00Z) or last`,
				);
			}

			return date;
		}),
	},
});

/** The options of `export`. */
export const exportOptions = [...commonOptions, ...Object.values(exportDefs)] as const;

/** The options of `import`. */
export const importOptions = [...commonOptions, upstreamDefs.trustedKey] as const;
