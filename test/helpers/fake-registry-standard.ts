/** The canned package set every registry test can start from. */
import type {FakePackageSpec} from './fake-registry-build.js';

const nginxTemplate = [
	{name: 'nginx', title: 'Nginx logs and metrics', description: 'Collect logs and metrics from Nginx'},
];

/**
What it holds, and why:
- nginx: 1.0.0 for ^8.10.0, 1.5.0 for ^8.13.0 || ^9.0.0, 2.0.0 for ^9.0.0, and the prerelease
  2.1.0-beta.1 for ^9.1.0; category `web`, a subcategory of `observability`.
- apache_otel 1.2.0 (^9.0.0) requires the input package filelog_input `^1.1.0` and the content
  package apache_dashboards `^1.0.0`.
- filelog_input (type input): 1.0.0 (^8.13.0), 1.2.0 (^8.15.0 || ^9.0.0), 1.3.0 (^9.2.0),
  2.0.0 (^9.1.0): for Kibana 9.1 the newest compatible is 2.0.0 but the range wants 1.2.0.
- apache_dashboards (type content, format 3.4.0): 1.0.0 (^8.16.0 || ^9.0.0).
- aws 3.0.0: a comma constraint (`>=8.14.0, <10.0.0`), format 3.3.2, categories aws and cloud,
  policy templates with their own categories (cloudtrail: security, ec2: observability).
- system 1.60.0 with no Kibana condition, format 2.10.0.
- security_ai 1.0.0 needs the `security` capability and the enterprise subscription.
- tomcat 0.9.0 is released as `experimental`: hidden unless prerelease=true.
- tampered 1.0.0 carries a signature over other bytes.
*/
export const standardPackages: readonly FakePackageSpec[] = [
	{
		name: 'nginx',
		version: '1.0.0',
		title: 'Nginx',
		kibana: '^8.10.0',
		categories: ['web'],
		policyTemplates: nginxTemplate,
	},
	{
		name: 'nginx',
		version: '1.5.0',
		title: 'Nginx',
		kibana: '^8.13.0 || ^9.0.0',
		categories: ['web'],
		policyTemplates: nginxTemplate,
	},
	{
		name: 'nginx',
		version: '2.0.0',
		title: 'Nginx',
		kibana: '^9.0.0',
		categories: ['web'],
		policyTemplates: nginxTemplate,
	},
	{
		name: 'nginx',
		version: '2.1.0-beta.1',
		title: 'Nginx',
		kibana: '^9.1.0',
		categories: ['web'],
		policyTemplates: nginxTemplate,
	},
	{
		name: 'apache_otel',
		version: '1.2.0',
		title: 'Apache OpenTelemetry',
		kibana: '^9.0.0',
		categories: ['web', 'opentelemetry'],
		requires: {
			input: [{package: 'filelog_input', version: '^1.1.0'}],
			content: [{package: 'apache_dashboards', version: '^1.0.0'}],
		},
	},
	{name: 'filelog_input', version: '1.0.0', type: 'input', kibana: '^8.13.0', categories: ['custom_logs']},
	{
		name: 'filelog_input',
		version: '1.2.0',
		type: 'input',
		kibana: '^8.15.0 || ^9.0.0',
		categories: ['custom_logs'],
	},
	{name: 'filelog_input', version: '1.3.0', type: 'input', kibana: '^9.2.0', categories: ['custom_logs']},
	{name: 'filelog_input', version: '2.0.0', type: 'input', kibana: '^9.1.0', categories: ['custom_logs']},
	{
		name: 'apache_dashboards',
		version: '1.0.0',
		type: 'content',
		formatVersion: '3.4.0',
		kibana: '^8.16.0 || ^9.0.0',
		categories: ['web'],
	},
	{
		name: 'aws',
		version: '3.0.0',
		title: 'AWS',
		kibana: '>=8.14.0, <10.0.0',
		formatVersion: '3.3.2',
		categories: ['aws', 'cloud'],
		policyTemplates: [
			{
				name: 'cloudtrail',
				title: 'AWS CloudTrail',
				description: 'Collect CloudTrail logs',
				categories: ['security'],
			},
			{name: 'ec2', title: 'Amazon EC2', description: 'Collect EC2 metrics', categories: ['observability']},
		],
	},
	{name: 'system', version: '1.60.0', formatVersion: '2.10.0', categories: ['os_system', 'observability']},
	{
		name: 'security_ai',
		version: '1.0.0',
		title: 'Security AI',
		kibana: '^9.0.0',
		capabilities: ['security'],
		subscription: 'enterprise',
		categories: ['security'],
	},
	{name: 'tomcat', version: '0.9.0', kibana: '^9.0.0', release: 'experimental', categories: ['web']},
	{
		name: 'tampered',
		version: '1.0.0',
		kibana: '^8.13.0 || ^9.0.0',
		categories: ['custom'],
		badSignature: true,
	},
];
