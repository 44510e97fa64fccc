/**
The package categories Elastic's registry knows (its categories/categories.yml, at
package-registry commit 16f54b6): titles, and the parent of each subcategory.
`/categories` takes titles and parents from here, and a `category=` query matches
a package in a subcategory of the asked-for parent. Categories not listed here
keep their id as title, as in the registry.
*/

/** One known category. */
export type CategoryInfo = {
	readonly id: string;
	readonly title: string;
	/** The parent of a subcategory (subcategories nest one level only). */
	readonly parent?: {readonly id: string; readonly title: string} | undefined;
};

type Definition = {readonly title: string; readonly subcategories?: Readonly<Record<string, string>>};

const definitions: Readonly<Record<string, Definition>> = {
	aws: {title: 'AWS'},
	azure: {title: 'Azure'},
	cloud: {title: 'Cloud'},
	config_management: {title: 'Config management'},
	containers: {title: 'Containers'},
	crm: {title: 'CRM'},
	custom: {
		title: 'Custom',
		subcategories: {
			custom_logs: 'Custom Logs',
		},
	},
	datastore: {title: 'Database'},
	elastic_stack: {title: 'Elastic Stack'},
	elasticsearch_sdk: {title: 'Elasticsearch SDK'},
	enterprise_search: {
		title: 'Enterprise Search',
		subcategories: {
			app_search: 'Application Search',
			connector: 'Connector',
			connector_client: 'Connector Client',
			connector_package: 'Connector Package',
			content_source: 'Content Source',
			crawler: 'Crawler',
			language_client: 'Language Client',
			native_search: 'Native Search',
			sdk_search: 'SDK',
			workplace_search: 'Workplace Search',
		},
	},
	google_cloud: {title: 'Google Cloud'},
	infrastructure: {title: 'Infrastructure'},
	languages: {title: 'Languages'},
	network: {title: 'Network'},
	observability: {
		title: 'Observability',
		subcategories: {
			application_observability: 'Application',
			analytics_engine: 'Analytics Engine',
			big_data: 'Big Data',
			java_observability: 'Java',
			kubernetes: 'Kubernetes',
			load_balancer: 'Load Balancer',
			message_queue: 'Message Broker',
			monitoring: 'Monitoring',
			notification: 'Notification',
			process_manager: 'Process Manager',
			stream_processing: 'Stream Processing',
			virtualization: 'Virtualization Platform',
			web: 'Web Server',
			websphere: 'WebSphere Application Server',
		},
	},
	opentelemetry: {title: 'OpenTelemetry'},
	os_system: {title: 'Operating Systems'},
	productivity: {title: 'Productivity'},
	security: {
		title: 'Security',
		subcategories: {
			advanced_analytics_ueba: 'Advanced Analytics (UEBA)',
			asset_inventory: 'Asset Inventory',
			auditd: 'AuditD',
			authentication: 'Authentication',
			cdn_security: 'Content Delivery Network',
			cloudsecurity_cdr: 'Cloud Security/CDR',
			credential_management: 'Credential Management',
			database_security: 'Database',
			dns_security: 'DNS',
			edr_xdr: 'EDR/XDR',
			email_security: 'Email',
			firewall_security: 'Firewall',
			iam: 'Identity and Access Management',
			ids_ips: 'IDS/IPS',
			misconfiguration_workflow: 'Misconfiguration Workflow',
			network_security: 'Network',
			productivity_security: 'Productivity',
			proxy_security: 'Proxy',
			siem: 'SIEM',
			threat_intel: 'Threat Intelligence',
			vpn_security: 'VPN',
			vulnerability_management: 'Vulnerability Management',
			vulnerability_workflow: 'Vulnerability Workflow',
			web_application_firewall: 'Web Application Firewall',
		},
	},
	support: {title: 'Support'},
	ticketing: {title: 'Ticketing'},
	version_control: {title: 'Version Control'},
};

function flatten(): Map<string, CategoryInfo> {
	const categories = new Map<string, CategoryInfo>();
	for (const [id, definition] of Object.entries(definitions)) {
		const parent = {id, title: definition.title};
		categories.set(id, parent);
		for (const [subId, title] of Object.entries(definition.subcategories ?? {})) {
			categories.set(subId, {id: subId, title, parent});
		}
	}

	return categories;
}

/** Every known category and subcategory by id. */
export const knownCategories: ReadonlyMap<string, CategoryInfo> = flatten();

/**
Whether `categories` (a package's or a policy template's) holds `category`, or a
subcategory of it (the registry's hasCategory).
*/
export function hasCategory(categories: readonly string[] | undefined, category: string): boolean {
	if (!categories) {
		return false;
	}

	return categories.some((held) => held === category || knownCategories.get(held)?.parent?.id === category);
}
