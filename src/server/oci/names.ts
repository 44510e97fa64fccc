/**
The repository names `/v2/` answers for one view of the mirror: every repository under
its own (default) name and, with `--container-repository NAME`, also under ECK's flat
name `NAME/<last component>`. Repositories that share a served name are merged by tag
(ECK's `beats/elastic-agent` for 8.x and `elastic-agent/elastic-agent` for 9.x both
become `NAME/elastic-agent`); a tag two of them hold at different digests is a clash,
served from neither.
Pure functions over the manifest's image section, memoized per snapshot by routes.ts.
*/

import {flatName} from '../../images/catalog.js';
import {closureOf, type ImagesView} from '../../images/closure.js';
import type {ImageTagEntry} from '../../store/manifest.js';

/** One tag under a served name, and the repository it comes from (the metrics label). */
export type ServedTag = {readonly repository: string; readonly entry: ImageTagEntry};

/** Two repositories that would serve the same tag under one name. */
export type NameClash = {
	readonly name: string;
	readonly tag: string;
	readonly repositories: readonly [string, string];
};

/** One served name: its tags, and (computed when first asked) the digests they reach. */
export type ServedName = {
	readonly tags: ReadonlyMap<string, ServedTag>;
	/** Each digest a served tag reaches, with the repository of the first tag reaching it. */
	readonly digests: () => ReadonlyMap<string, string>;
};

/** Every name served, in one view. */
export type ServedNames = {
	readonly names: ReadonlyMap<string, ServedName>;
	readonly clashes: readonly NameClash[];
};

/** The names `images` is served under, with `containerRepository` for flat names when set. */
export function servedNames(images: ImagesView, containerRepository: string | undefined): ServedNames {
	const tagsByName = new Map<string, Map<string, ServedTag>>();
	const clashes: NameClash[] = [];
	const clashed = new Map<string, Set<string>>();
	const add = (name: string, repository: string) => {
		const tags = tagsByName.get(name) ?? new Map<string, ServedTag>();
		tagsByName.set(name, tags);
		for (const [tag, entry] of Object.entries(images.repositories[repository] ?? {})) {
			const held = tags.get(tag);
			// The same digest under both is the same image: either repository serves it.
			if (held && held.repository !== repository && held.entry.digest !== entry.digest) {
				clashes.push({name, tag, repositories: [held.repository, repository]});
				clashed.set(name, (clashed.get(name) ?? new Set()).add(tag));
			} else {
				tags.set(tag, {repository, entry});
			}
		}
	};

	const repositories = Object.keys(images.repositories).sort();
	for (const repository of repositories) {
		add(repository, repository);
	}

	if (containerRepository !== undefined) {
		for (const repository of repositories) {
			add(flatName(repository, containerRepository), repository);
		}
	}

	const names = new Map<string, ServedName>();
	for (const [name, tags] of tagsByName) {
		for (const tag of clashed.get(name) ?? []) {
			tags.delete(tag);
		}

		let digests: Map<string, string> | undefined;
		names.set(name, {
			tags,
			digests: () => {
				if (!digests) {
					digests = new Map();
					for (const {repository, entry} of tags.values()) {
						for (const digest of closureOf(images, entry.digest)) {
							if (!digests.has(digest)) digests.set(digest, repository);
						}
					}
				}

				return digests;
			},
		});
	}

	return {names, clashes};
}

/** The one line that refuses a clash at start: both repositories, the name and the tag. */
export function clashText(clash: NameClash, containerRepository: string): string {
	const [a, b] = clash.repositories;
	return `--container-repository ${containerRepository}: ${a} and ${b} would both be ${clash.name}:${clash.tag}; drop one of the two tags from the mirror or serve without --container-repository`;
}
