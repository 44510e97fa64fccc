/**
`/categories` as Elastic's registry counts it (categories.go getCategories and
getCategoriesOutput): each category of the versions the filter selected, with
policy templates' categories when asked, titled and parented from the registry's
category list, sorted by id. Pure.
*/
import {hasCategory, knownCategories} from './categories.js';
import type {Candidate} from './registry-search.js';

/** One line of `/categories`, in the registry's field order. */
export type CategoryCount = {
	id: string;
	title: string;
	count: number;
	parent_id?: string;
	parent_title?: string;
};

/** `/categories`: how many selected versions are in each category (getCategories, getCategoriesOutput). */
export function countCategories(
	selected: readonly Candidate[],
	includePolicyTemplates: boolean,
): CategoryCount[] {
	const counts = new Map<string, number>();
	const add = (category: string) => counts.set(category, (counts.get(category) ?? 0) + 1);
	for (const candidate of selected) {
		for (const category of candidate.categories) {
			add(category);
		}

		if (!includePolicyTemplates) {
			continue;
		}

		const extra = new Set<string>();
		for (const categories of candidate.templateCategories) {
			// A package whose single template has no categories of its own counts once.
			if (categories === undefined && candidate.templateCategories.length === 1) {
				break;
			}

			for (const category of candidate.categories) {
				add(category);
			}

			for (const category of categories ?? []) {
				if (!counts.has(category)) {
					counts.set(category, 0);
				}

				if (!hasCategory(candidate.categories, category) && !extra.has(category)) {
					extra.add(category);
					add(category);
				}

				add(category);
			}
		}
	}

	return [...counts.keys()]
		.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
		.map((id) => {
			const known = knownCategories.get(id);
			const line: CategoryCount = {id, title: known?.title ?? id, count: counts.get(id) ?? 0};
			if (known?.parent) {
				line.parent_id = known.parent.id;
				line.parent_title = known.parent.title;
			}

			return line;
		});
}
