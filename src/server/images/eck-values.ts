/**
What ECK and eck-diagnostics need to pull from this mirror, as the page shows it:
the registry host (ECK's `--container-registry` takes host[:port], no scheme), the
operator's config file lines, a small `Elasticsearch` resource pinned to a held
image, and the `--diagnostic-image` value. Repository names are ECK's defaults
(docs/container-images.md section 4).
*/
import semver from 'semver';
import {flatName} from '../../images/catalog.js';
import type {ImageRepositoryRow} from './image-rows.js';

/** The repository of Elasticsearch's image. */
export const elasticsearchRepository = 'elasticsearch/elasticsearch';

/** The repository of the ECK operator's own image (not moved by `--container-registry`). */
export const operatorRepository = 'eck/eck-operator';

/** The image eck-diagnostics runs its support-diagnostics Job with. */
export const diagnosticsRepository = 'eck-dev/support-diagnostics';

/** The registry host of `publicUrl`: `host[:port]`, as image references and ECK's flag write it. */
export function registryHost(publicUrl: string): string {
	try {
		return new URL(publicUrl).host;
	} catch {
		return publicUrl.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
	}
}

/** The newest tag of `row` that is a version (a stack or tool version), else its newest tag. */
export function newestTag(row: ImageRepositoryRow | undefined): string | undefined {
	return (row?.tags.find((each) => semver.valid(each.tag) !== null) ?? row?.tags[0])?.tag;
}

/** The lines of the operator's config file (`eck.yaml` in the `elastic-operator` ConfigMap). */
export function operatorConfig(host: string, containerRepository?: string): string {
	return `container-registry: ${host}${containerRepository ? `\ncontainer-repository: ${containerRepository}` : ''}`;
}

/** A minimal `Elasticsearch` resource running the held image `host/elasticsearch/elasticsearch:version`. */
export function elasticsearchManifest(host: string, version: string): string {
	return [
		'apiVersion: elasticsearch.k8s.elastic.co/v1',
		'kind: Elasticsearch',
		'metadata:',
		'  name: quickstart',
		'spec:',
		`  version: ${version}`,
		`  image: ${host}/${elasticsearchRepository}:${version}`,
		'  nodeSets:',
		'  - name: default',
		'    count: 1',
	].join('\n');
}

/** The eck-diagnostics command line that runs the held support-diagnostics image. */
export function diagnosticsCommand(host: string, tag: string): string {
	return `eck-diagnostics --diagnostic-image ${host}/${diagnosticsRepository}:${tag}`;
}

/** Where ECK pulls `repository:tag` from under `--container-repository NAME`. */
export function flatReference(
	host: string,
	repository: string,
	tag: string,
	containerRepository: string,
): string {
	return `${host}/${flatName(repository, containerRepository)}:${tag}`;
}
