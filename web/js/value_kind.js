// What kind of value a key holds, decided once for every view: the list's row icons, the key
// view's preview, and the editor's choice between editing as text or replacing with a file.

// Values longer than this are shown (and edited as text) only up to here.
export const TEXT_PREVIEW_LIMIT = 512 * 1024;

// "text/html; charset=utf-8" -> "text/html".
export const baseType = (type) => (type || '').split(';')[0].trim().toLowerCase();

// The icon of a listing entry, from its content type alone: 'image', 'json', 'text' or 'binary'.
export function kindOfType(type) {
  const base = baseType(type);
  if (base.startsWith('image/')) return 'image';
  if (base === 'application/json' || base.endsWith('+json')) return 'json';
  if (base.startsWith('text/') || base.endsWith('+xml') || base.endsWith('/xml') || base === 'application/javascript') return 'text';
  return 'binary';
}

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/x-icon',
  'image/vnd.microsoft.icon', 'image/svg+xml', 'image/avif'];

// Decides how to show a value from its type and bytes: returns {kind, text} with kind one of
// 'empty', 'image', 'json', 'html', 'text' or 'binary', and text the decoded UTF-8 (at most
// TEXT_PREVIEW_LIMIT bytes of it) for the textual kinds.
export function classify(type, bytes) {
  if (bytes.length === 0) return { kind: 'empty' };
  const base = baseType(type);
  if (IMAGE_TYPES.includes(base)) return { kind: 'image' };
  let text = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.min(bytes.length, TEXT_PREVIEW_LIMIT + 4)));
  } catch {
    text = null;
  }
  // A cut in the middle of a multi-byte character at the limit is not a decoding failure.
  if (text === null && bytes.length > TEXT_PREVIEW_LIMIT) {
    try {
      text = new TextDecoder('utf-8').decode(bytes.subarray(0, TEXT_PREVIEW_LIMIT));
    } catch {
      text = null;
    }
  }
  // eslint-disable-next-line no-control-regex
  const clean = text !== null && !/[\u0000-\u0008\u000e-\u001a\u001c-\u001f\u007f]/.test(text);
  const textual = base.startsWith('text/') || base === 'application/json' || base.endsWith('+json') ||
    base.endsWith('+xml') || base === 'application/xml' || base === 'application/javascript' ||
    base === 'application/x-www-form-urlencoded';
  if (text === null || (!clean && !textual)) return { kind: 'binary' };
  if (base === 'text/html' || base === 'application/xhtml+xml') return { kind: 'html', text };
  const looksJson = /^\s*[[{]/.test(text) && bytes.length <= TEXT_PREVIEW_LIMIT;
  if ((base === 'application/json' || base.endsWith('+json') || ((base === 'text/plain' || base === '' ||
      base === 'application/octet-stream') && looksJson)) && isJson(text)) {
    return { kind: 'json', text };
  }
  return { kind: 'text', text };
}

function isJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
