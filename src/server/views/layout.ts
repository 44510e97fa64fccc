/** The page frame every HTML page shares. */
import {packageVersion} from '../../meta.js';
import {type Html, html} from './html.js';

/** The Content-Security-Policy of every HTML page: our own script and styles only. */
export const pageCsp =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const icon =
	"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%230b64dd'/%3E%3Cpath d='M9 11h14M9 16h14M9 21h9' stroke='white' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E";

/**
The way from the page at `pathname` back to the server's root, as a relative URL
(`./`, `../../`): links built on it keep working when a proxy mounts the server
below a path (`--public-url https://host/elastic/`), which root-absolute links do not.
*/
export function rootOf(pathname: string): string {
	const depth = pathname.split('/').length - 2;
	return depth > 0 ? '../'.repeat(depth) : './';
}

/** A full page around `body`; `root` is `rootOf` the page's path. */
export function page(
	title: string,
	body: Html,
	root: string,
	options: {metrics?: boolean; browse?: boolean} = {},
): string {
	return html`<!doctype html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="icon" href="${icon}">
<link rel="stylesheet" href="${root}assets/app.css">
<script src="${root}assets/app.js" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="${root}"><span class="logo" aria-hidden="true"></span>Elastic Artifact Mirror</a>
<nav aria-label="Main">
${options.browse === false ? null : html`<a href="${root}downloads/">Browse files</a>`}
<a href="${root}api/v1/artifacts">API</a>
<a href="${root}api/v1/status">Status</a>
</nav>
</header>
<main>
${body}
</main>
<footer>elastic-artifact-mirror ${packageVersion} · <a href="${root}v1/versions">/v1/versions</a>${options.metrics === false ? null : html` · <a href="${root}metrics">/metrics</a>`}</footer>
</body>
</html>
`.value;
}

/** A copy button for `text`; hidden until the script runs, since it needs the script. */
export function copyButton(text: string, label = 'Copy', what = 'text'): Html {
	return html`<button type="button" class="copy" data-copy="${text}" aria-label="Copy ${what}">${label}</button>`;
}
