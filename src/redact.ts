/**
Credentials never leave the process: a URL given as `http://user:pass@host/` is shown
as `http://***@host/` in every event, failure reason, log line and status record.
*/

// The userinfo of a URL: everything between `scheme://` and the last `@` before the
// authority ends (a password may hold a raw `@`, which URL parsers accept).
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/** `text` with the user and password of every URL in it replaced by `***`; the rest unchanged. */
export function redactText(text: string): string {
	return text.replace(userinfo, '$1***@');
}
