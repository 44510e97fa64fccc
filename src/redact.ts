/**
Credentials never leave the process: a URL given as `http://user:pass@host/` is shown
as `http://***@host/` in every event, failure reason, log line and status record.
*/

// The userinfo of a URL: everything between `scheme://` and the first `@` before the host ends.
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** `url` with its user and password replaced by `***`; anything else comes back unchanged. */
export function redactUrl(url: string): string {
	return url.replace(userinfo, '$1***@');
}

/** `text` with every URL in it redacted as by redactUrl. */
export function redactText(text: string): string {
	return text.replace(userinfo, '$1***@');
}
