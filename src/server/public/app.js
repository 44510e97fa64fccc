// Copy buttons. The page works without this script: every value is also plain,
// selectable text, and the buttons stay hidden until this runs.
document.documentElement.classList.remove('no-js');

async function copyText(text) {
	if (navigator.clipboard && window.isSecureContext) {
		try {
			await navigator.clipboard.writeText(text);
			return true;
		} catch {
			// Fall through to the selection-based copy.
		}
	}

	// Plain-HTTP pages on a LAN address are not a secure context, so the
	// Clipboard API is missing there; a selected hidden textarea still copies.
	const area = document.createElement('textarea');
	area.value = text;
	area.setAttribute('readonly', '');
	area.className = 'offscreen';
	document.body.append(area);
	area.select();
	let copied = false;
	try {
		copied = document.execCommand('copy');
	} catch {
		copied = false;
	}

	area.remove();
	return copied;
}

document.addEventListener('click', async (event) => {
	const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
	if (!button) {
		return;
	}

	const copied = await copyText(button.dataset.copy ?? '');
	const label = button.dataset.label ?? button.textContent;
	button.dataset.label = label;
	button.textContent = copied ? 'Copied' : 'Select and copy';
	button.classList.toggle('done', copied);
	clearTimeout(Number(button.dataset.timer));
	button.dataset.timer = String(
		setTimeout(() => {
			button.textContent = label;
			button.classList.remove('done');
		}, 1600),
	);
});
