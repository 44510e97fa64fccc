/**
The options that select container images, the registry they come from and the
platforms kept. Sync reads them from every source; verify and push-images read the
registry too.
*/
import {
	defaultImagePlatforms,
	defaultImageRegistry,
	type ImageRequest,
	imageRequestText,
	parseImageRequests,
	parsePlatforms,
} from '../../images/catalog.js';
import {splitList} from '../parse.js';
import {rootUrl} from './kinds.js';
import {group} from './option.js';

/** Images, their source registry, and the platforms kept from multi-platform images. */
export const imageDefs = group({
	images: {
		parse: (raw, origin) => parseImageRequests(splitList(raw), origin.label),
		schema: {anyOf: [{type: 'array', items: {type: 'string', minLength: 1}}, {type: 'string'}]},
		arg: '<list>',
		description:
			'container image repositories, repo or repo:tag; an untagged repo takes the stack versions (--versions) as tags, e.g. elasticsearch/elasticsearch,eck/eck-operator:3.2.0',
		defaultText: 'none',
		show: (requests: readonly ImageRequest[]) => requests.map(imageRequestText),
	},
	imageRegistry: {
		...rootUrl,
		description:
			'source registry of the images (docker.elastic.co, any OCI registry, or another mirror); credentials come from a Docker config.json or REGISTRY_AUTH_FILE, never from flags',
		default: defaultImageRegistry,
	},
	imagePlatforms: {
		parse: (raw, origin) => parsePlatforms(splitList(raw), origin.label),
		schema: {anyOf: [{type: 'array', items: {type: 'string', minLength: 1}}, {type: 'string'}]},
		arg: '<list>',
		description: 'platforms kept from multi-platform images (os/arch[/variant])',
		default: [...defaultImagePlatforms],
		show: (platforms: readonly string[]) => platforms,
	},
});
