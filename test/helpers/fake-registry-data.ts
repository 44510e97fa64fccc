/**
Data the fake registry needs from Elastic's: the category titles and parents
(package-registry `categories/categories.yml`) and the ingestion methods of the inputs the fake
uses (`internal/ingestionmethod/ingestion_method.yml`).
*/

/** Top-level categories with their titles and subcategories (`id: title`). */
const tree: Record<string, [string, Record<string, string>?]> = {
	aws: ['AWS'],
	azure: ['Azure'],
	cloud: ['Cloud'],
	config_management: ['Config management'],
	containers: ['Containers'],
	crm: ['CRM'],
	custom: ['Custom', {custom_logs: 'Custom Logs'}],
	datastore: ['Database'],
	elastic_stack: ['Elastic Stack'],
	elasticsearch_sdk: ['Elasticsearch SDK'],
	enterprise_search: [
		'Enterprise Search',
		{
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
	],
	google_cloud: ['Google Cloud'],
	infrastructure: ['Infrastructure'],
	languages: ['Languages'],
	network: ['Network'],
	observability: [
		'Observability',
		{
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
	],
	opentelemetry: ['OpenTelemetry'],
	os_system: ['Operating Systems'],
	productivity: ['Productivity'],
	security: [
		'Security',
		{
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
	],
	support: ['Support'],
	ticketing: ['Ticketing'],
	version_control: ['Version Control'],
};

/** A known category: its title and, for a subcategory, its parent's id and title. */
export type CategoryInfo = {
	readonly title: string;
	readonly parent?: {readonly id: string; readonly title: string};
};

/** Every category the registry knows, by id. Packages' other categories are dropped when loaded. */
export const knownCategories: ReadonlyMap<string, CategoryInfo> = new Map(
	Object.entries(tree).flatMap(([id, [title, subs]]) => [
		[id, {title}] as const,
		...Object.entries(subs ?? {}).map(
			([subId, subTitle]) => [subId, {title: subTitle, parent: {id, title}}] as const,
		),
	]),
);

/** `ingestion_method` the registry adds to an input package's policy template, by its `input`. */
export const ingestionMethods: Readonly<Record<string, string>> = {
	cel: 'API',
	httpjson: 'API',
	filestream: 'File',
	logfile: 'File',
	syslog: 'Network Protocol',
	tcp: 'Network Protocol',
	udp: 'Network Protocol',
	http_endpoint: 'Webhook',
	journald: 'journald',
	kafka: 'Kafka',
};
