// Telling the person things and asking them: toasts, in-page alert boxes, the confirm dialog and
// the access-token dialog. The dialogs are the <dialog> elements of index.html; their open state
// is the only state here, and it lives in the DOM.

import { $, asNodes, h } from './dom.js';

// A short message in the corner that goes away by itself. kind: 'info' or 'error'.
export function toast(message, kind = 'info') {
  const node = h('div', { class: `toast${kind === 'error' ? ' error' : ''}`, text: message });
  $('toasts').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 6000 : 3500);
}

// Fills an alert box (the editor's or the key view's: a .alert holding a text and an actions
// element) with a message and buttons, and shows it. actions: [{label, run, primary}].
// kind: 'error' or 'warn'.
export function showAlert(box, textNode, actionsNode, message, actions = [], kind = 'error') {
  textNode.textContent = message;
  actionsNode.replaceChildren(...actions.map(({ label, run, primary }) => {
    const b = h('button', { type: 'button', class: `btn small${primary ? ' primary' : ''}`, text: label });
    b.addEventListener('click', run);
    return b;
  }));
  box.classList.toggle('warn', kind === 'warn');
  box.hidden = false;
}

// Shows the in-page confirm dialog. body: nodes and strings (strings as text). Resolves true
// when confirmed; Escape, Cancel and the backdrop's close all resolve false. Focus starts on
// Cancel, and the browser gives it back to where it was when the dialog closes.
export function confirmDialog({ title, body, confirmLabel = 'Delete', danger = true }) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').replaceChildren(...asNodes(body));
  const ok = $('confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = `btn ${danger ? 'danger' : 'primary'}`;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

// Asks for the server's access token, prefilled with current; error (if any) says what was wrong
// with the last one. onSave(token) gets a non-empty token when the person confirms. Does nothing
// while the dialog is already open.
export function askForToken({ current, error = '', onSave }) {
  const dialog = $('token-dialog');
  if (dialog.open) return;
  const input = $('token-input');
  input.value = current || '';
  $('token-error').textContent = error;
  $('token-error').hidden = error === '';
  dialog.returnValue = '';
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'ok' && input.value.trim()) onSave(input.value.trim());
  }, { once: true });
  dialog.showModal();
  input.focus();
}
