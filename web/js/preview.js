// How a value looks in the key view: text and HTML as source, JSON re-indented and coloured,
// images through a blob: URL, anything else as a hex dump with a download button.
// Builds nodes only; stored bytes become text nodes, never markup.

import { h } from './dom.js';
import { downloadName, formatBytes } from './format.js';
import { TEXT_PREVIEW_LIMIT, baseType, classify } from './value_kind.js';

const JSON_HIGHLIGHT_LIMIT = 256 * 1024;
const HEX_PREVIEW_BYTES = 256;
const LABELS = { empty: 'Empty value', image: 'Image', json: 'JSON', html: 'HTML source', text: 'Text', binary: 'Binary' };

// Renders {key, type, bytes, url (a blob: URL of the bytes), showRaw} into container and returns
// {kind} (see classify). onKindLabel(label) gets the label to show above it, again if an image
// turns out not to decode.
export function renderPreview(container, value, onKindLabel) {
  const { key, type, bytes, url, showRaw } = value;
  const { kind, text } = classify(type, bytes);
  const truncated = bytes.length > TEXT_PREVIEW_LIMIT;
  onKindLabel(LABELS[kind]);
  const nodes = [];
  if (kind === 'empty') {
    nodes.push(h('p', { class: 'note', text: 'This key holds an empty value (0 bytes).' }));
  } else if (kind === 'image') {
    const img = h('img', { alt: `Preview of ${key}`, decoding: 'async' });
    const note = h('p', { class: 'note' });
    img.addEventListener('load', () => {
      note.textContent = `${img.naturalWidth} × ${img.naturalHeight} pixels`;
    });
    img.addEventListener('error', () => {
      container.replaceChildren(h('p', { class: 'note', text: 'The image could not be decoded; here are its first bytes.' }),
        ...binaryNodes(value));
      onKindLabel(LABELS.binary);
    });
    img.src = url;
    nodes.push(h('div', { class: 'image-frame' }, img), note);
  } else if (kind === 'json' && !showRaw) {
    nodes.push(jsonNode(text));
  } else if (kind === 'binary') {
    nodes.push(...binaryNodes(value));
  } else {
    nodes.push(h('pre', { class: 'code', text: truncated ? text.slice(0, TEXT_PREVIEW_LIMIT) : text }));
    if (kind === 'html') {
      nodes.push(h('p', { class: 'note', text: 'HTML is shown as source. The page never renders stored HTML.' }));
    }
  }
  if (truncated && kind !== 'binary' && kind !== 'image') {
    nodes.push(h('p', { class: 'note', text: `Showing the first ${formatBytes(TEXT_PREVIEW_LIMIT)} of ${formatBytes(bytes.length)}. Download the value to see all of it.` }));
  }
  container.replaceChildren(...nodes);
  return { kind };
}

// Pretty-prints JSON without going through JSON.parse/stringify (which would round big numbers):
// re-indents the original tokens and colours them.
function jsonNode(text) {
  const pre = h('pre', { class: 'code json' });
  const highlight = text.length <= JSON_HIGHLIGHT_LIMIT;
  const fragment = document.createDocumentFragment();
  let plain = '';
  const flush = () => {
    if (plain) fragment.append(document.createTextNode(plain));
    plain = '';
  };
  const emit = (s, cls) => {
    if (!cls || !highlight) {
      plain += s;
      return;
    }
    flush();
    fragment.append(h('span', { class: cls, text: s }));
  };
  let depth = 0;
  const newline = () => emit(`\n${'  '.repeat(depth)}`);
  const token = /\s+|"(?:[^"\\]|\\.)*"|[{}[\],:]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/gy;
  let match;
  while ((match = token.exec(text)) !== null) {
    const t = match[0];
    if (/^\s/.test(t)) continue;
    if (t === '{' || t === '[') {
      // An empty object or array stays on one line.
      const rest = text.slice(token.lastIndex).match(/^\s*([}\]])/);
      if (rest) {
        emit(t + rest[1]);
        token.lastIndex += rest[0].length;
        continue;
      }
      emit(t);
      depth++;
      newline();
    } else if (t === '}' || t === ']') {
      depth = Math.max(0, depth - 1);
      newline();
      emit(t);
    } else if (t === ',') {
      emit(',');
      newline();
    } else if (t === ':') {
      emit(': ');
    } else if (t[0] === '"') {
      const isKey = /^\s*:/.test(text.slice(token.lastIndex));
      emit(t, isKey ? 'json-key' : 'json-string');
    } else if (t === 'true' || t === 'false' || t === 'null') {
      emit(t, 'json-literal');
    } else {
      emit(t, 'json-number');
    }
    if (token.lastIndex >= text.length) break;
  }
  // Anything the tokenizer could not read (it stops at the first surprise) is shown as it is.
  if (token.lastIndex > 0 && token.lastIndex < text.length) emit(text.slice(token.lastIndex));
  if (match === null && token.lastIndex === 0) emit(text);
  flush();
  pre.append(fragment);
  return pre;
}

function binaryNodes({ key, type, bytes, url }) {
  const card = h('div', { class: 'binary-card' },
    h('p', {}, `Binary data, ${formatBytes(bytes.length)}${type ? ` of type ${baseType(type)}` : ''}. `,
      bytes.length > HEX_PREVIEW_BYTES ? `The first ${HEX_PREVIEW_BYTES} bytes are shown below.` : ''));
  const download = h('a', { class: 'btn primary', href: url || '#', text: 'Download' });
  download.download = downloadName(key || 'value');
  card.append(download);
  const pre = h('pre', { class: 'code nowrap hex' });
  pre.setAttribute('aria-label', 'Hexadecimal dump of the first bytes');
  const shown = bytes.subarray(0, HEX_PREVIEW_BYTES);
  for (let offset = 0; offset < shown.length; offset += 16) {
    const row = shown.subarray(offset, offset + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47, ' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '·')).join('');
    pre.append(h('span', { class: 'off', text: offset.toString(16).padStart(8, '0') }), '  ', hex, '  ',
      h('span', { class: 'ascii', text: ascii }), offset + 16 < shown.length ? '\n' : '');
  }
  return [card, pre];
}
