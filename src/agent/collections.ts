/**
The other collections' phases a sync run may need, loaded only when they are
selected: an agent-only sync (what cron runs most often) does not load the package,
Defend and image code, tens of milliseconds of its start.
*/

/** The package phase and plan. */
export type PackagesCode = typeof import('../packages/phase.js') & typeof import('../packages/plan.js');
/** The Defend phase and plan. */
export type DefendCode = typeof import('../defend/phase.js') & typeof import('../defend/plan.js');
/** The image phase and plan. */
export type ImagesCode = typeof import('../images/phase.js') & typeof import('../images/plan.js');

/** The code of each selected collection; absent for those not selected. */
export type CollectionsCode = {
	readonly packages?: PackagesCode | undefined;
	readonly defend?: DefendCode | undefined;
	readonly images?: ImagesCode | undefined;
};

/** Load the phases of the collections `selected` names (a truthy field each). */
export async function loadCollections(selected: {
	readonly packages?: unknown;
	readonly defend?: unknown;
	readonly images?: unknown;
}): Promise<CollectionsCode> {
	const [packages, defend, images] = await Promise.all([
		selected.packages
			? Promise.all([import('../packages/phase.js'), import('../packages/plan.js')]).then(
					([phase, plan]) => ({
						...phase,
						...plan,
					}),
				)
			: undefined,
		selected.defend
			? Promise.all([import('../defend/phase.js'), import('../defend/plan.js')]).then(([phase, plan]) => ({
					...phase,
					...plan,
				}))
			: undefined,
		selected.images
			? Promise.all([import('../images/phase.js'), import('../images/plan.js')]).then(([phase, plan]) => ({
					...phase,
					...plan,
				}))
			: undefined,
	]);
	return {packages, defend, images};
}
