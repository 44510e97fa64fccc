/**
The Content-Type Elastic's registry sends for a file inside a package: Go's
mime.TypeByExtension (its built-in table, the common types of the mailcap
mime.types its Docker image installs, and the four types the registry adds in
mime_types.go), else what http.ServeContent sniffs from the first bytes, here
narrowed to text or binary so that no package file is ever labelled as a page.
*/

const byExtension: Readonly<Record<string, string>> = {
	// Go's built-in table (mime/type.go).
	'.avif': 'image/avif',
	'.css': 'text/css; charset=utf-8',
	'.gif': 'image/gif',
	'.htm': 'text/html; charset=utf-8',
	'.html': 'text/html; charset=utf-8',
	'.jpeg': 'image/jpeg',
	'.jpg': 'image/jpeg',
	'.js': 'text/javascript; charset=utf-8',
	'.json': 'application/json',
	'.mjs': 'text/javascript; charset=utf-8',
	'.pdf': 'application/pdf',
	'.png': 'image/png',
	'.svg': 'image/svg+xml',
	'.wasm': 'application/wasm',
	'.webp': 'image/webp',
	'.xml': 'text/xml; charset=utf-8',
	// From the image's /etc/mime.types (the Dockerfile installs mailcap), which Go reads too.
	'.txt': 'text/plain; charset=utf-8',
	'.csv': 'text/csv; charset=utf-8',
	'.asc': 'application/pgp-signature',
	'.sig': 'application/pgp-signature',
	'.gz': 'application/gzip',
	'.tar': 'application/x-tar',
	// The registry's own (mime_types.go), added last so they win.
	'.zip': 'application/zip',
	'.ico': 'image/x-icon',
	'.md': 'text/markdown; charset=utf-8',
	'.yml': 'text/yaml; charset=UTF-8',
};

/** Bytes Go's sniffer counts as binary (http.DetectContentType's text test). */
function looksBinary(head: Uint8Array): boolean {
	return head.some(
		(byte) =>
			byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f),
	);
}

/** The Content-Type of the package file `name` whose first bytes are `head`. */
export function packageFileType(name: string, head: Uint8Array): string {
	const base = name.slice(name.lastIndexOf('/') + 1);
	const dot = base.lastIndexOf('.');
	const extension = dot >= 0 ? base.slice(dot) : '';
	const known = byExtension[extension] ?? byExtension[extension.toLowerCase()];
	if (known) {
		return known;
	}

	return looksBinary(head.subarray(0, 512)) ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}
