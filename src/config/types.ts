/**
The option types the commands run with, owned by config (which builds them) and
imported by the modules that use them, so config imports no command's module.
Types only.
*/
import type {ArtifactRef} from '../agent/catalog.js';
import type {ImageRequest} from '../images/catalog.js';
import type {PackageRequest} from '../packages/catalog.js';
import type {StoreLocation} from '../store/location.js';
import type {LeaseOptions} from '../store/s3/lease.js';
import type {HttpConfig} from '../upstream/types.js';
import type {VersionSpec} from '../versions.js';

/** Everything a sync run needs, already validated by the config loader. */
export type SyncOptions = {
	/** The mirror to sync into: a directory or an object store. */
	readonly location: StoreLocation;
	/** Lease timing of the object store's lock (tests shorten it). */
	readonly lease?: LeaseOptions | undefined;
	/** Upstream root, e.g. https://artifacts.elastic.co (no trailing slash needed). */
	readonly upstream: string;
	readonly versionsApi: string;
	/**
	Asked before `versionsApi` when set: the upstream's own `/v1/versions` (another mirror
	of ours answers it). Config sets it when --upstream is given and --versions-api is not.
	*/
	readonly upstreamVersionsApi?: string | undefined;
	/** Stack versions: the binaries' versions, and the packages' Kibana versions unless those are given. */
	readonly versions: readonly VersionSpec[];
	/** Binary products; empty when only other collections are selected. */
	readonly products: readonly string[];
	readonly platforms: readonly string[];
	readonly fips: boolean;
	/** Armored public key files; signatures must verify against one of them. */
	readonly trustedKeyPaths: readonly string[];
	readonly concurrency: number;
	readonly dryRun: boolean;
	readonly http: HttpConfig;
	/** The package registry (`--registry`), also where verify --repair fetches package versions again. */
	readonly registry: string;
	/** The security artifacts host (`--defend-upstream`), also where verify --repair fetches Defend files again. */
	readonly defendUpstream: string;
	/** Elastic Defend protections to mirror, when selected. */
	readonly defend?: DefendSyncOptions | undefined;
	/** Integration packages to mirror, when selected. */
	readonly packages?: PackageSyncOptions | undefined;
	/** The image source registry (`--image-registry`), also where verify --repair fetches image tags again. */
	readonly imageRegistry: string;
	/** The registry credential files to look in, in order (REGISTRY_AUTH_FILE, Docker's config.json). */
	readonly credentialFiles: readonly string[];
	/** Container images to mirror, when selected. */
	readonly images?: ImageSyncOptions | undefined;
	/** Fetch exactly these tags (`repository:tag`) instead of the image selection (verify --repair). */
	readonly onlyImages?: readonly string[] | undefined;
	/**
	Fetch exactly these package versions (zip paths) instead of the package selection
	(verify --repair), from `packages.registry` or the default registry.
	*/
	readonly onlyPackages?: readonly string[] | undefined;
	/** Fetch exactly these artifacts instead of the selection (verify --repair). */
	readonly only?: readonly ArtifactRef[] | undefined;
};

/** What `--defend-artifacts` and `--defend-upstream` select. */
export type DefendSyncOptions = {
	/** The Defend versions, resolved like `--versions`. */
	readonly versions: readonly VersionSpec[];
	/** The security artifacts host root, without a trailing slash. */
	readonly upstream: string;
};

/** What `--images` and its companions select. */
export type ImageSyncOptions = {
	readonly requests: readonly ImageRequest[];
	/** Source registry root, without a trailing slash. */
	readonly registry: string;
	/** Platforms kept from multi-platform images, `os/arch[/variant]`. */
	readonly platforms: readonly string[];
};

/** What `--packages` and its companions select. */
export type PackageSyncOptions = {
	readonly requests: readonly PackageRequest[];
	/** The Kibana versions the packages must work with; absent: what `versions` resolves to. */
	readonly kibanaVersions?: readonly VersionSpec[] | undefined;
	/** Upstream registry root, without a trailing slash. */
	readonly registry: string;
	/** Also consider prerelease package versions. */
	readonly prerelease: boolean;
};

/** A selection of manifest entries; an absent field selects everything. */
export type Selection = {
	readonly products?: readonly string[] | undefined;
	readonly versions?: readonly VersionSpec[] | undefined;
	readonly platforms?: readonly string[] | undefined;
	/** false: leave FIPS builds out; absent or true: keep them. */
	readonly fips?: boolean | undefined;
};

/** Which artifacts prune keeps. At least one rule must be given. */
export type PruneRules = {
	/** Keep the newest N versions per product (FIPS apart) and major.minor. */
	readonly keepLatest?: number | undefined;
	/** Keep versions matching these specs. */
	readonly keepVersions?: readonly VersionSpec[] | undefined;
	/** Remove the artifacts this selection (sync's config) does not select; absent when it selects no binaries. */
	readonly selection?: Selection | undefined;
	/** Keep the newest N versions of each integration package. */
	readonly keepPackageVersions?: number | undefined;
	/** Remove the package versions these requests (sync's --packages) do not take; absent when it selects none. */
	readonly packages?: readonly PackageRequest[] | undefined;
	/** Remove the Defend versions these specs (sync's --defend-artifacts) do not select; absent when it selects none. */
	readonly defendVersions?: readonly VersionSpec[] | undefined;
	/** Keep the newest N tags of each image repository. */
	readonly keepImageTags?: number | undefined;
	/** Remove image tags set more than this many days ago. */
	readonly imageTagsOlderThan?: number | undefined;
	/** Remove the image tags these requests (sync's --images) do not take; absent when it selects none. */
	readonly images?: readonly ImageRequest[] | undefined;
};
