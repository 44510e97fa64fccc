/**
A tagged template for HTML that escapes every interpolated value unless it is
already markup made by this same tag. Pages are small and server-rendered, so this
is the whole template engine.
*/

/** Markup that is safe to insert as-is. */
export class Html {
	readonly value: string;

	constructor(value: string) {
		this.value = value;
	}

	toString(): string {
		return this.value;
	}
}

const entities: Record<string, string> = {
	'&': '&amp;',
	'<': '&lt;',
	'>': '&gt;',
	'"': '&quot;',
	"'": '&#39;',
};

/** Escape text for an element body or a quoted attribute. */
export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
	if (value === null || value === undefined || value === false) {
		return '';
	}

	if (value instanceof Html) {
		return value.value;
	}

	if (Array.isArray(value)) {
		return value.map((item) => render(item)).join('');
	}

	return escapeHtml(String(value));
}

/** Build markup; `${value}` is escaped, arrays are joined, null/undefined/false vanish. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
	let out = strings[0] ?? '';
	for (let index = 0; index < values.length; index++) {
		out += render(values[index]) + (strings[index + 1] ?? '');
	}

	return new Html(out);
}
