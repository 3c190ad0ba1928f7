// Formatting shared by the views: sizes, counts, times, and the parts of a key's name.
// Pure functions of their arguments; nothing here touches the DOM.

const encoder = new TextEncoder();

export function formatBytes(n) {
  if (n === undefined || n === null || Number.isNaN(Number(n))) return '—';
  n = Number(n);
  if (n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

const numberFormat = new Intl.NumberFormat();
export const formatCount = (n) => (n === undefined || n === null ? '—' : numberFormat.format(Number(n)));

// Accepts what a server may send for a time: RFC 3339 / HTTP-date text, or a number of seconds,
// milliseconds or microseconds since the epoch. Returns a Date or null.
export function parseTime(value) {
  if (value === undefined || value === null || value === '' || value === 0) return null;
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(String(value))) {
    const n = Number(value);
    if (n <= 0) return null;
    const ms = n > 1e14 ? n / 1000 : n > 1e11 ? n : n * 1000;
    return new Date(ms);
  }
  const ms = Date.parse(String(value));
  return Number.isNaN(ms) ? null : new Date(ms);
}

export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// "in 5 minutes", "3 days ago", "just now".
export function relativeTime(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds < 0 ? 'just now' : relativeFormat.format(Math.round(seconds), 'second');
  const steps = [[60, 'minute', 3600], [3600, 'hour', 86400], [86400, 'day', 86400 * 30],
    [86400 * 30, 'month', 86400 * 365], [86400 * 365, 'year', Infinity]];
  for (const [size, unit, limit] of steps) {
    if (abs < limit) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return dateFormat.format(date);
}

// "now", "5m", "3h", "12d", "2y": an age that fits in a list row.
export function shortAge(date) {
  const s = Math.max(0, (Date.now() - date.getTime()) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 365) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 365))}y`;
}

export const utf8Length = (s) => encoder.encode(s).length;
export const utf8Bytes = (s) => encoder.encode(s);
export const quoted = (s) => `“${s}”`;

// The folder part of a key: everything up to and including its last "/" ("" for none).
export const folderOf = (key) => key.slice(0, key.lastIndexOf('/') + 1);

// A file name for downloads: the key's last segment with characters that file systems dislike
// replaced.
export function downloadName(key) {
  const last = key.split('/').filter(Boolean).pop() || 'value';
  return last.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').slice(0, 120);
}

// The content type a file name's extension stands for ("report.JSON" → application/json), or ''
// when it says nothing we know. For the editor's default when the type is left empty: the
// server's sniffing goes by the bytes and calls JSON, YAML, Markdown, CSS and scripts plain text.
const TYPES_BY_EXTENSION = {
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  svg: 'image/svg+xml',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
};

export function contentTypeOfName(name) {
  const last = String(name).split('/').pop();
  const dot = last.lastIndexOf('.');
  if (dot <= 0) return '';  // no extension, or a dot file such as ".env"
  return TYPES_BY_EXTENSION[last.slice(dot + 1).toLowerCase()] || '';
}
