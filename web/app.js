// keyva's web page: browse, open, create, edit and delete keys; counters; engine stats.
//
// Everything goes through the HTTP API (/kv/, /seq/, /api/stats). Invariants that keep the page
// safe with hostile stored data: stored keys and values reach the DOM only through textContent,
// element properties set from code (href to a "#/..." fragment we build, src/href to blob: URLs),
// never through innerHTML or inline handlers; values are fetched as bytes and decoded here.
// Edits carry the ETag seen when the key was opened (If-Match), creates carry If-None-Match: *,
// so a concurrent change is reported instead of silently overwritten.

const PAGE_SIZE = 100;
const MAX_LIST_LIMIT = 1000;
const MAX_KEY_BYTES = 1024;
const TEXT_PREVIEW_LIMIT = 512 * 1024;
const JSON_HIGHLIGHT_LIMIT = 256 * 1024;
const HEX_PREVIEW_BYTES = 256;
const STATS_INTERVAL_MS = 3000;
const TOKEN_STORAGE = 'keyva.token';
const COUNTERS_STORAGE = 'keyva.counters';

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Small DOM and formatting helpers.

// Creates an element. props: {class, text, attrs: {name: value}, ...properties}. Children may be
// nodes or strings (strings become text nodes, never markup).
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'attrs') for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
    else node[name] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
// Icons are fixed path data from this file, never from stored data.
const ICONS = {
  folder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h5A1.5 1.5 0 0 1 17 8.5v6a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 3 14.5z',
  text: 'M6 3h6l4 4v10H6zM12 3v4h4M8.5 10.5h5M8.5 13.5h5',
  json: 'M8 4c-2 0-2 1.5-2 3s-1 2.5-2 3c1 .5 2 1.5 2 3s0 3 2 3M14 4c2 0 2 1.5 2 3s1 2.5 2 3c-1 .5-2 1.5-2 3s0 3-2 3',
  image: 'M4 5h14v12H4zM4 14l4-4 3 3 2-2 5 5M14 8.5a1 1 0 1 0 0 .01',
  binary: 'M6 3h6l4 4v10H6zM12 3v4h4M9 11v3M12.5 11h1v3h-1z',
};
function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 22 20');
  svg.setAttribute('class', 'row-icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name] || ICONS.text);
  path.setAttribute('fill', name === 'folder' ? 'currentColor' : 'none');
  path.setAttribute('fill-opacity', name === 'folder' ? '0.18' : '1');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.5');
  path.setAttribute('stroke-linejoin', 'round');
  path.setAttribute('stroke-linecap', 'round');
  svg.append(path);
  return svg;
}

function formatBytes(n) {
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
const formatCount = (n) => (n === undefined || n === null ? '—' : numberFormat.format(Number(n)));

// Accepts what a server may send for a time: RFC 3339 / HTTP-date text, or a number of seconds,
// milliseconds or microseconds since the epoch. Returns a Date or null.
function parseTime(value) {
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

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
function relativeTime(date) {
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
function shortAge(date) {
  const s = Math.max(0, (Date.now() - date.getTime()) / 1000);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 365) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 365))}y`;
}

const utf8Length = (s) => encoder.encode(s).length;
const baseType = (type) => (type || '').split(';')[0].trim().toLowerCase();
const folderOf = (key) => key.slice(0, key.lastIndexOf('/') + 1);
const quoted = (s) => `“${s}”`;

// A file name for downloads: the key's last segment with characters that file systems dislike
// replaced.
function downloadName(key) {
  const last = key.split('/').filter(Boolean).pop() || 'value';
  return last.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').slice(0, 120);
}

// ---------------------------------------------------------------------------------------------
// The API.

class ApiError extends Error {
  constructor(status, detail, response) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || '';
    this.response = response;
  }
}

// The URL of a key: the whole key percent-encoded (slashes too), so that dot segments like
// "a/../b" reach the server as they are instead of being normalised away by the browser.
const kvUrl = (key) => `/kv/${encodeURIComponent(key)}`;
const seqUrl = (name) => `/seq/${encodeURIComponent(name)}`;

// fetch() with the access token (if any) and errors turned into ApiError. A response with status
// 2xx or 304 is returned; anything else throws, with the server's {"error"} text when it has one.
async function api(method, url, { body, headers } = {}) {
  const hdrs = new Headers(headers || {});
  const token = sessionStorage.getItem(TOKEN_STORAGE);
  if (token) hdrs.set('Authorization', `Bearer ${token}`);
  let res;
  try {
    res = await fetch(url, { method, headers: hdrs, body, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    setConnection(false);
    throw new ApiError(0, '');
  }
  setConnection(true);
  if (res.ok || res.status === 304) return res;
  let detail = '';
  try {
    const text = await res.text();
    try {
      const parsed = JSON.parse(text);
      detail = typeof parsed.error === 'string' ? parsed.error : '';
    } catch {
      detail = text.length < 200 ? text.trim() : '';
    }
  } catch {
    /* no body */
  }
  if (res.status === 401) askForToken();
  throw new ApiError(res.status, detail, res);
}

// Plain words for an API failure. context: {key, counter, action}.
function describeError(err, context = {}) {
  if (!(err instanceof ApiError)) return `Something went wrong in the page: ${err.message || err}`;
  const what = context.key !== undefined ? `the key ${quoted(context.key)}`
    : context.counter !== undefined ? `the counter ${quoted(context.counter)}` : 'that';
  const detail = err.detail ? ` (${err.detail.replace(/\.$/, '')})` : '';
  switch (err.status) {
    case 0: return 'Cannot reach the keyva server. Check that it is running, then try again.';
    case 400: return `The server did not accept the request${detail}.`;
    case 401:
    case 403: return 'This server needs an access token for changes. Enter it, then try again.';
    case 404: return context.key !== undefined
      ? `There is no key named ${quoted(context.key)}. It may have been deleted or expired.`
      : `The server has no ${what}.`;
    case 405: return 'The server does not allow that here.';
    case 411: return 'The server needs to know the size of the value before it is sent.';
    case 412: return `${what[0].toUpperCase()}${what.slice(1)} changed since you opened it.`;
    case 413: return 'That value is larger than this server accepts.';
    case 414: return `That key is too long: keys are at most ${MAX_KEY_BYTES} bytes.`;
    case 429:
    case 503: return 'The server is busy right now. Wait a moment and try again.';
    case 507: return 'The server’s disk is full, so nothing was written.';
    default:
      return err.status >= 500 ? `The server ran into an error${detail}. Nothing was changed.`
        : `The request failed with status ${err.status}${detail}.`;
  }
}

function setConnection(ok) {
  const conn = $('conn');
  const state = ok ? 'ok' : 'down';
  if (conn.dataset.state === state) return;
  conn.dataset.state = state;
  $('conn-text').textContent = ok ? 'Connected' : 'Server unreachable';
  conn.title = ok ? 'Connected to the keyva server' : 'The keyva server does not answer';
}

// ---------------------------------------------------------------------------------------------
// Toasts and dialogs.

function toast(message, kind = 'info') {
  const node = h('div', { class: `toast${kind === 'error' ? ' error' : ''}`, text: message });
  $('toasts').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 6000 : 3500);
}

// Shows the in-page confirm dialog. body: nodes/strings. Resolves true when confirmed; Escape,
// Cancel and the backdrop's close all resolve false.
function confirmDialog({ title, body, confirmLabel = 'Delete', danger = true }) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').replaceChildren(...body.map((b) => (typeof b === 'string' ? document.createTextNode(b) : b)));
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

let tokenDialogOpen = false;
function askForToken() {
  const dialog = $('token-dialog');
  if (tokenDialogOpen) return;
  tokenDialogOpen = true;
  const input = $('token-input');
  input.value = sessionStorage.getItem(TOKEN_STORAGE) || '';
  dialog.returnValue = '';
  dialog.addEventListener('close', () => {
    tokenDialogOpen = false;
    if (dialog.returnValue === 'ok' && input.value.trim()) {
      sessionStorage.setItem(TOKEN_STORAGE, input.value.trim());
      toast('Token saved for this tab. Try again.');
    }
  }, { once: true });
  dialog.showModal();
  input.focus();
}

// Shows an alert box (the editor's or the key view's) with a message and optional actions.
function showAlert(box, textNode, actionsNode, message, actions = [], kind = 'error') {
  textNode.textContent = message;
  actionsNode.replaceChildren(...actions.map(({ label, run, primary }) => {
    const b = h('button', { type: 'button', class: `btn small${primary ? ' primary' : ''}`, text: label });
    b.addEventListener('click', run);
    return b;
  }));
  box.classList.toggle('warn', kind === 'warn');
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Routing. The hash holds the view and its state, so Back, reload and links all work:
//   #/keys?prefix=P            a folder
//   #/keys?prefix=P&key=K      a key open
//   #/keys?prefix=P&key=K&mode=edit, #/keys?prefix=P&mode=new
//   #/counters, #/stats

function keysHref({ prefix = '', key, mode } = {}) {
  const params = new URLSearchParams();
  if (prefix) params.set('prefix', prefix);
  if (key !== undefined && key !== null) params.set('key', key);
  if (mode) params.set('mode', mode);
  const q = params.toString();
  return `#/keys${q ? `?${q}` : ''}`;
}

function parseRoute() {
  const hash = location.hash.replace(/^#/, '');
  const [path, query = ''] = hash.split(/\?(.*)/s);
  const params = new URLSearchParams(query);
  const view = { '/counters': 'counters', '/stats': 'stats' }[path] || 'keys';
  const key = params.has('key') ? params.get('key') : null;
  const prefix = params.has('prefix') ? params.get('prefix') : key !== null ? folderOf(key) : '';
  const mode = params.get('mode') || (key !== null ? 'view' : null);
  return { view, prefix, key, mode: mode === 'new' || mode === 'edit' || mode === 'view' ? mode : null };
}

const go = (href) => {
  if (location.hash === href) route();
  else location.hash = href;
};

let currentView = null;
function route() {
  const r = parseRoute();
  const changedView = r.view !== currentView;
  currentView = r.view;
  for (const name of ['keys', 'counters', 'stats']) $(`view-${name}`).hidden = name !== r.view;
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (r.view === 'keys') routeKeys(r);
  else document.title = `${r.view === 'counters' ? 'Counters' : 'Engine'} · keyva`;
  if (r.view === 'counters') showCounters(changedView);
  if (r.view === 'stats') showStats(changedView);
  else stopStats();
}

// ---------------------------------------------------------------------------------------------
// The key browser (left pane).

const list = {
  prefix: null,  // the folder shown
  filter: '',    // typed in the filter box: the listing's prefix is prefix + filter
  entries: [],   // the listing's entries loaded so far, in key order
  next: null,    // cursor for the next page, or null when everything is loaded
  generation: 0, // bumps per request so a late answer to an old request is dropped
  loading: false,
};
let selectedKey = null;

function setListPrefix(prefix) {
  if (list.prefix === prefix) return;
  list.prefix = prefix;
  list.filter = '';
  $('filter').value = '';
  renderCrumbs();
  loadList();
}

// Loads the first page (or, with more, the next page) of the listing. With keepCount the first
// load asks for as many entries as are shown now, so a refresh after a change keeps the place.
async function loadList({ more = false, keepCount = false } = {}) {
  const generation = ++list.generation;
  const params = new URLSearchParams();
  params.set('prefix', list.prefix + list.filter);
  if (more && list.next !== null) params.set('after', list.next);
  const limit = keepCount ? Math.min(Math.max(list.entries.length, PAGE_SIZE), MAX_LIST_LIMIT) : PAGE_SIZE;
  params.set('limit', String(limit));
  list.loading = true;
  $('key-list').setAttribute('aria-busy', 'true');
  $('load-more').disabled = true;
  if (!more) setListMessage(list.entries.length ? '' : 'Loading…');
  try {
    const res = await api('GET', `/kv/?${params}`);
    const data = await res.json();
    if (generation !== list.generation) return;
    const entries = Array.isArray(data.keys) ? data.keys : [];
    list.entries = more ? list.entries.concat(entries) : entries;
    list.next = data.next === undefined || data.next === null || data.next === '' ? null : String(data.next);
    renderList();
  } catch (err) {
    if (generation !== list.generation) return;
    if (!more) {
      list.entries = [];
      list.next = null;
      renderList();
    }
    setListMessage(describeError(err), 'error');
  } finally {
    if (generation === list.generation) {
      list.loading = false;
      $('key-list').setAttribute('aria-busy', 'false');
      $('load-more').disabled = false;
    }
  }
}

function setListMessage(text, kind = '') {
  const node = $('list-message');
  node.textContent = text;
  node.className = `list-message${kind ? ` ${kind}` : ''}`;
}

function renderCrumbs() {
  const crumbs = $('crumbs');
  const parts = [];
  const segments = list.prefix.split('/').slice(0, -1);
  const atRoot = segments.length === 0 && list.prefix === '';
  parts.push(atRoot
    ? h('span', { class: 'here root', text: 'All keys', attrs: { 'aria-current': 'location' } })
    : h('a', { class: 'root', href: keysHref(), text: 'All keys' }));
  let acc = '';
  segments.forEach((segment, i) => {
    acc += `${segment}/`;
    parts.push(h('span', { class: 'sep', text: '/', attrs: { 'aria-hidden': 'true' } }));
    const label = segment === '' ? '(empty)' : segment;
    parts.push(i === segments.length - 1 && acc === list.prefix
      ? h('span', { class: 'here', text: label, attrs: { 'aria-current': 'location' } })
      : h('a', { href: keysHref({ prefix: acc }), text: label }));
  });
  // A prefix that does not end in "/" (only reachable by a hand-made link) is shown as is.
  if (!list.prefix.endsWith('/') && list.prefix !== '') {
    parts.push(h('span', { class: 'sep', text: '/', attrs: { 'aria-hidden': 'true' } }));
    parts.push(h('span', { class: 'here', text: list.prefix.slice(acc.length), attrs: { 'aria-current': 'location' } }));
  }
  crumbs.replaceChildren(...parts);
  $('new-key').href = keysHref({ prefix: list.prefix, mode: 'new' });
}

function kindOfType(type) {
  const base = baseType(type);
  if (base.startsWith('image/')) return 'image';
  if (base === 'application/json' || base.endsWith('+json')) return 'json';
  if (base.startsWith('text/') || base.endsWith('+xml') || base.endsWith('/xml') || base === 'application/javascript') return 'text';
  return 'binary';
}

function renderList() {
  const ul = $('key-list');
  const rows = [];
  const folders = new Map();
  const prefix = list.prefix;
  for (const entry of list.entries) {
    const key = String(entry.key ?? '');
    if (!key.startsWith(prefix)) continue;
    const rel = key.slice(prefix.length);
    const slash = rel.indexOf('/');
    if (slash >= 0 && slash < rel.length - 1) {
      const name = rel.slice(0, slash + 1);
      let folder = folders.get(name);
      if (!folder) {
        folder = { type: 'folder', name, count: 0, lastKey: key };
        folders.set(name, folder);
        rows.push(folder);
      }
      folder.count++;
      folder.lastKey = key;
    } else {
      rows.push({ type: 'key', name: rel, entry });
    }
  }
  const lastLoaded = list.entries.length ? String(list.entries[list.entries.length - 1].key) : null;
  const nodes = rows.map((row) => {
    if (row.type === 'folder') {
      const more = list.next !== null && row.lastKey === lastLoaded;
      const count = `${formatCount(row.count)}${more ? '+' : ''} ${row.count === 1 && !more ? 'key' : 'keys'}`;
      const a = h('a', { class: 'row folder', href: keysHref({ prefix: prefix + row.name }) },
        icon('folder'),
        h('span', { class: 'row-name', text: row.name }),
        h('span', { class: 'row-meta', text: count }));
      a.setAttribute('aria-label', `Folder ${row.name}, ${count}`);
      return h('li', {}, a);
    }
    const { entry } = row;
    const key = String(entry.key);
    const modified = parseTime(entry.modified);
    const meta = [formatBytes(entry.size)];
    if (modified) meta.push(shortAge(modified));
    const a = h('a', { class: 'row key', href: keysHref({ prefix, key }) },
      icon(kindOfType(entry.content_type)),
      h('span', { class: 'row-name', text: row.name === '' ? '(this folder’s own key)' : row.name }),
      h('span', { class: 'row-meta', text: meta.join(' · ') }));
    a.dataset.key = key;
    if (modified) a.title = `${entry.content_type || 'unknown type'} · modified ${dateFormat.format(modified)}`;
    if (key === selectedKey) a.setAttribute('aria-current', 'true');
    return h('li', {}, a);
  });
  ul.replaceChildren(...nodes);

  const n = list.entries.length;
  if (n === 0) {
    const msg = list.filter ? `No keys here start with ${quoted(list.filter)}.`
      : prefix ? 'This folder is empty.' : 'No keys yet. Create one with “New key”.';
    setListMessage(msg, 'empty');
  } else {
    setListMessage('');
  }
  const keysWord = n === 1 ? 'key' : 'keys';
  $('list-count').textContent = n === 0 ? '' : list.next !== null
    ? `Showing the first ${formatCount(n)} ${keysWord}` : `${formatCount(n)} ${keysWord}`;
  $('load-more').hidden = list.next === null;
}

function markSelected() {
  for (const a of $('key-list').querySelectorAll('a.row.key')) {
    if (a.dataset.key === selectedKey) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------------------------------------
// The open key (right pane).

const opened = {
  key: null,        // the key shown, or null
  etag: null,       // the ETag seen when it was loaded: edits and deletes send it in If-Match
  type: '',
  bytes: null,      // Uint8Array of the value
  meta: null,       // the listing entry (size, modified, expires, ...), if found
  generation: 0,
  urls: [],         // blob URLs to revoke when another key is opened
  showRaw: false,
};

function revokeUrls() {
  for (const url of opened.urls) URL.revokeObjectURL(url);
  opened.urls = [];
}

function routeKeys(r) {
  setListPrefix(r.prefix);
  selectedKey = r.key;
  markSelected();
  const section = $('view-keys');
  section.classList.toggle('has-detail', r.mode !== null);
  const backHref = keysHref({ prefix: r.prefix });
  $('kv-back').href = backHref;
  $('kv-back').textContent = `← ${r.prefix ? r.prefix : 'All keys'}`;
  $('ed-back').href = r.mode === 'edit' ? keysHref({ prefix: r.prefix, key: r.key }) : backHref;

  if (r.mode === 'new' || r.mode === 'edit') {
    $('detail-empty').hidden = true;
    $('key-view').hidden = true;
    openEditor(r);
    return;
  }
  $('editor').hidden = true;
  editor.active = false;
  if (r.mode === 'view') {
    $('detail-empty').hidden = true;
    $('key-view').hidden = false;
    if (r.key !== opened.key || opened.needsReload) openKey(r.key);
    document.title = `${r.key} · keyva`;
  } else {
    $('key-view').hidden = true;
    $('detail-empty').hidden = false;
    opened.key = null;
    document.title = r.prefix ? `${r.prefix} · keyva` : 'keyva';
  }
}

// Looks the key up in the listing for what GET does not say (expiry, size as stored).
async function fetchListEntry(key) {
  const params = new URLSearchParams({ prefix: key, limit: '1' });
  const res = await api('GET', `/kv/?${params}`);
  const data = await res.json();
  const entry = Array.isArray(data.keys) ? data.keys[0] : null;
  return entry && String(entry.key) === key ? entry : null;
}

async function openKey(key, { focus = true } = {}) {
  const generation = ++opened.generation;
  revokeUrls();
  Object.assign(opened, { key, etag: null, type: '', bytes: null, meta: null, showRaw: false, needsReload: false });
  $('kv-alert').hidden = true;
  $('kv-folder').textContent = folderOf(key);
  $('kv-name').textContent = key.slice(folderOf(key).length) || key;
  $('kv-meta').replaceChildren();
  $('kv-kind').textContent = 'Loading…';
  $('kv-raw').hidden = true;
  $('kv-preview').replaceChildren();
  setKeyActionsEnabled(false);
  if (focus) $('kv-name').focus({ preventScroll: true });
  try {
    const [res, entry] = await Promise.all([
      api('GET', kvUrl(key)),
      fetchListEntry(key).catch(() => null),
    ]);
    const buffer = await res.arrayBuffer();
    if (generation !== opened.generation) return;
    opened.bytes = new Uint8Array(buffer);
    opened.etag = res.headers.get('ETag');
    opened.type = res.headers.get('Content-Type') || (entry && entry.content_type) || '';
    opened.meta = entry;
    opened.lastModified = res.headers.get('Last-Modified');
    opened.expiresHeader = res.headers.get('X-Keyva-Expires') || res.headers.get('Expires');
    renderKey();
    setKeyActionsEnabled(true);
  } catch (err) {
    if (generation !== opened.generation) return;
    $('kv-kind').textContent = '';
    const actions = [{ label: 'Try again', run: () => openKey(key) }];
    if (err instanceof ApiError && err.status === 404) {
      actions.splice(0, 1, { label: 'Back to the list', run: () => go(keysHref({ prefix: list.prefix })) });
      loadList({ keepCount: true });
    }
    showAlert($('kv-alert'), $('kv-alert-text'), $('kv-alert-actions'), describeError(err, { key }), actions);
  }
}

function setKeyActionsEnabled(enabled) {
  for (const id of ['kv-edit', 'kv-download']) {
    const a = $(id);
    if (enabled) a.removeAttribute('aria-disabled');
    else a.setAttribute('aria-disabled', 'true');
  }
  $('kv-delete').disabled = !enabled;
}

function metaItem(label, value, { sub, mono = false, title, wide = false } = {}) {
  return h('div', { class: wide ? 'wide' : undefined },
    h('dt', { text: label }),
    h('dd', { class: mono ? 'mono' : '', title }, value, sub ? h('span', { class: 'sub', text: sub }) : null));
}

function renderKey() {
  const { key, bytes, type, meta } = opened;
  const size = bytes.length;
  const modified = parseTime(meta && meta.modified) || parseTime(opened.lastModified);
  const expires = parseTime(meta && meta.expires) || parseTime(opened.expiresHeader);
  const items = [
    metaItem('Type', type || 'unknown', { mono: true }),
    metaItem('Size', formatBytes(size), { sub: size >= 1024 ? `${formatCount(size)} bytes` : undefined }),
    metaItem('Modified', modified ? relativeTime(modified) : '—',
      { sub: modified ? dateFormat.format(modified) : undefined }),
    metaItem('Expires', expires ? relativeTime(expires) : 'Never',
      { sub: expires ? dateFormat.format(expires) : undefined }),
    metaItem('ETag', opened.etag || '—', { mono: true, wide: true }),
  ];
  $('kv-meta').replaceChildren(...items);

  const url = URL.createObjectURL(new Blob([bytes], { type: baseType(type) || 'application/octet-stream' }));
  opened.urls.push(url);
  const download = $('kv-download');
  download.href = url;
  download.download = downloadName(key);
  $('kv-edit').href = keysHref({ prefix: list.prefix ?? folderOf(key), key, mode: 'edit' });
  renderPreview();
}

// Decides how to show a value: 'empty', 'image', 'json', 'html', 'text' or 'binary'. Returns
// {kind, text} where text is the decoded UTF-8 for textual kinds.
function classify(type, bytes) {
  if (bytes.length === 0) return { kind: 'empty' };
  const base = baseType(type);
  const images = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/x-icon',
    'image/vnd.microsoft.icon', 'image/svg+xml', 'image/avif'];
  if (images.includes(base)) return { kind: 'image' };
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

function renderPreview() {
  const { bytes, type, key } = opened;
  const preview = $('kv-preview');
  const rawButton = $('kv-raw');
  const { kind, text } = classify(type, bytes);
  const truncated = bytes.length > TEXT_PREVIEW_LIMIT;
  const labels = { empty: 'Empty value', image: 'Image', json: 'JSON', html: 'HTML source',
    text: 'Text', binary: 'Binary' };
  $('kv-kind').textContent = labels[kind];
  rawButton.hidden = kind !== 'json';
  rawButton.textContent = opened.showRaw ? 'Formatted' : 'Show raw';
  rawButton.setAttribute('aria-pressed', String(opened.showRaw));
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
      preview.replaceChildren(h('p', { class: 'note', text: 'The image could not be decoded; here are its first bytes.' }),
        ...binaryNodes(bytes, type));
      $('kv-kind').textContent = 'Binary';
    });
    img.src = opened.urls[0];
    nodes.push(h('div', { class: 'image-frame' }, img), note);
  } else if (kind === 'json' && !opened.showRaw) {
    nodes.push(jsonNode(text));
  } else if (kind === 'binary') {
    nodes.push(...binaryNodes(bytes, type));
  } else {
    nodes.push(h('pre', { class: 'code', text: truncated ? text.slice(0, TEXT_PREVIEW_LIMIT) : text }));
    if (kind === 'html') {
      nodes.push(h('p', { class: 'note', text: 'HTML is shown as source. The page never renders stored HTML.' }));
    }
  }
  if (truncated && kind !== 'binary' && kind !== 'image') {
    nodes.push(h('p', { class: 'note', text: `Showing the first ${formatBytes(TEXT_PREVIEW_LIMIT)} of ${formatBytes(bytes.length)}. Download the value to see all of it.` }));
  }
  preview.replaceChildren(...nodes);
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

function binaryNodes(bytes, type) {
  const card = h('div', { class: 'binary-card' },
    h('p', {}, `Binary data, ${formatBytes(bytes.length)}${type ? ` of type ${baseType(type)}` : ''}. `,
      bytes.length > HEX_PREVIEW_BYTES ? `The first ${HEX_PREVIEW_BYTES} bytes are shown below.` : ''));
  const download = h('a', { class: 'btn primary', href: opened.urls[0] || '#', text: 'Download' });
  download.download = downloadName(opened.key || 'value');
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

async function deleteOpenedKey() {
  const key = opened.key;
  if (key === null) return;
  const confirmed = await confirmDialog({
    title: 'Delete this key?',
    body: ['The key ', h('strong', { text: key }), ' and its value will be deleted. This cannot be undone.'],
    confirmLabel: 'Delete key',
  });
  if (!confirmed || opened.key !== key) return;
  const headers = opened.etag ? { 'If-Match': opened.etag } : {};
  try {
    await api('DELETE', kvUrl(key), { headers });
    toast(`Deleted ${quoted(key)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      toast(`${quoted(key)} was already gone.`);
    } else if (err instanceof ApiError && err.status === 412) {
      showAlert($('kv-alert'), $('kv-alert-text'), $('kv-alert-actions'),
        `${quoted(key)} was changed by someone else after you opened it, so it was not deleted. Reload to see the latest version.`,
        [{ label: 'Reload', primary: true, run: () => openKey(key) }], 'warn');
      return;
    } else {
      showAlert($('kv-alert'), $('kv-alert-text'), $('kv-alert-actions'), describeError(err, { key }));
      return;
    }
  }
  opened.key = null;
  go(keysHref({ prefix: list.prefix }));
  loadList({ keepCount: true });
}

// ---------------------------------------------------------------------------------------------
// The editor: create (If-None-Match: *) or edit (If-Match: the ETag seen when opened).

const editor = {
  active: false,
  mode: 'new',
  key: null,
  etag: null,
  file: null,
  generation: 0,
  typeFromFile: false,  // the content type field was filled in from the chosen file
};

function setSource(source) {
  $('ed-src-text').checked = source === 'text';
  $('ed-src-file').checked = source === 'file';
  $('ed-text-wrap').hidden = source !== 'text';
  $('ed-file-wrap').hidden = source !== 'file';
}

function setFile(file) {
  editor.file = file;
  $('ed-file-name').textContent = file ? `${file.name} · ${formatBytes(file.size)}` : 'or drop one here';
  $('ed-drop').querySelector('.drop-title').textContent = file ? 'Chosen file' : 'Choose a file';
  const typeInput = $('ed-type');
  if (file && file.type && (typeInput.value === '' || editor.typeFromFile)) {
    typeInput.value = file.type;
    editor.typeFromFile = true;
  }
}

function clearEditorError() {
  $('ed-error').hidden = true;
}

async function openEditor(r) {
  const generation = ++editor.generation;
  const form = $('editor');
  const sameEdit = editor.active && editor.mode === r.mode && editor.key === r.key;
  if (sameEdit && !form.hidden) return;  // already editing this: keep the draft
  Object.assign(editor, { active: true, mode: r.mode, key: r.key, etag: null, file: null, typeFromFile: false });
  form.reset();
  setFile(null);
  setSource('text');
  clearEditorError();
  const keyInput = $('ed-key');
  const isEdit = r.mode === 'edit';
  $('ed-title').textContent = isEdit ? 'Edit key' : 'New key';
  $('ed-save').textContent = isEdit ? 'Save changes' : 'Create key';
  $('ed-cancel').href = isEdit ? keysHref({ prefix: r.prefix, key: r.key }) : keysHref({ prefix: r.prefix });
  keyInput.readOnly = isEdit;
  $('ed-key-hint').hidden = isEdit;
  $('ed-ttl-hint').textContent = 'Leave empty to keep the key until it is deleted.';
  form.hidden = false;
  document.title = `${isEdit ? 'Edit' : 'New key'} · keyva`;

  if (!isEdit) {
    keyInput.value = r.prefix;
    keyInput.focus();
    keyInput.setSelectionRange(keyInput.value.length, keyInput.value.length);
    return;
  }

  keyInput.value = r.key;
  // Use what was seen when the key was opened: that ETag is the one the edit is based on.
  if (opened.key !== r.key || opened.bytes === null) {
    $('ed-save').disabled = true;
    await openKey(r.key, { focus: false });
    $('ed-save').disabled = false;
    if (generation !== editor.generation) return;
    if (opened.key !== r.key || opened.bytes === null) {
      showAlert($('ed-error'), $('ed-error-text'), $('ed-error-actions'),
        `Could not load ${quoted(r.key)} for editing. ${$('kv-alert-text').textContent}`);
      return;
    }
  }
  editor.etag = opened.etag;
  const { kind, text } = classify(opened.type, opened.bytes);
  $('ed-type').value = opened.type;
  if (kind === 'binary' || kind === 'image' || opened.bytes.length > TEXT_PREVIEW_LIMIT) {
    setSource('file');
    $('ed-file-name').textContent = `The current value is ${kind === 'image' ? 'an image' : 'binary'} (${formatBytes(opened.bytes.length)}). Choose a file to replace it.`;
  } else {
    $('ed-text').value = text || '';
  }
  const expires = parseTime(opened.meta && opened.meta.expires) || parseTime(opened.expiresHeader);
  if (expires) {
    const remaining = Math.max(1, Math.ceil((expires.getTime() - Date.now()) / 1000));
    $('ed-ttl').value = String(remaining);
    $('ed-ttl-unit').value = '1';
    $('ed-ttl-hint').textContent = `It expires ${relativeTime(expires)} now. Clear this to keep it forever.`;
  }
  $('ed-title').focus({ preventScroll: true });
  if (!$('ed-text-wrap').hidden) $('ed-text').focus();
}

async function submitEditor({ force = false } = {}) {
  clearEditorError();
  const key = $('ed-key').value;
  const isEdit = editor.mode === 'edit';
  const fail = (message, focusId, actions = []) => {
    showAlert($('ed-error'), $('ed-error-text'), $('ed-error-actions'), message, actions);
    if (focusId) $(focusId).focus();
  };
  if (key === '') return fail('Give the key a name.', 'ed-key');
  if (utf8Length(key) > MAX_KEY_BYTES) return fail(`That key is too long: keys are at most ${MAX_KEY_BYTES} bytes.`, 'ed-key');

  let body;
  const useFile = $('ed-src-file').checked;
  if (useFile) {
    if (!editor.file) return fail('Choose a file to upload, or switch to Text.', 'ed-file');
    body = new Uint8Array(await editor.file.arrayBuffer());
  } else {
    // Bytes, not a string: fetch would otherwise label a string body text/plain itself, and
    // an empty content type is meant to let the server sniff.
    body = encoder.encode($('ed-text').value);
  }

  const params = new URLSearchParams();
  const ttlText = $('ed-ttl').value.trim();
  if (ttlText !== '') {
    const ttl = Number(ttlText);
    if (!Number.isInteger(ttl) || ttl <= 0) return fail('The expiry must be a whole number greater than zero.', 'ed-ttl');
    params.set('ttl', String(ttl * Number($('ed-ttl-unit').value)));
  }
  const headers = {};
  const type = $('ed-type').value.trim();
  if (type) headers['Content-Type'] = type;
  if (!force) {
    if (isEdit && editor.etag) headers['If-Match'] = editor.etag;
    if (!isEdit) headers['If-None-Match'] = '*';
  }

  const save = $('ed-save');
  save.disabled = true;
  save.setAttribute('aria-busy', 'true');
  try {
    const q = params.toString();
    await api('PUT', `${kvUrl(key)}${q ? `?${q}` : ''}`, { body, headers });
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) {
      if (isEdit) {
        fail(`${quoted(key)} was changed or deleted by someone else after you opened it, so your edit was not saved. Your version is still here.`,
          null, [
            { label: 'Load the latest version', primary: true, run: () => { opened.needsReload = true; editor.active = false; go(keysHref({ prefix: folderOf(key), key })); } },
            { label: 'Save mine anyway', run: () => submitEditor({ force: true }) },
          ]);
      } else {
        fail(`A key named ${quoted(key)} already exists, so nothing was saved.`, null, [
          { label: 'Open it', run: () => { editor.active = false; go(keysHref({ prefix: folderOf(key), key })); } },
          { label: 'Replace it', run: () => submitEditor({ force: true }) },
        ]);
      }
    } else {
      fail(describeError(err, { key }));
    }
    return;
  } finally {
    save.disabled = false;
    save.removeAttribute('aria-busy');
  }
  toast(isEdit ? `Saved ${quoted(key)}` : `Created ${quoted(key)}`);
  editor.active = false;
  opened.key = null;  // reload it
  const prefix = folderOf(key);
  if (prefix === list.prefix) loadList({ keepCount: true });
  go(keysHref({ prefix, key }));
}

// ---------------------------------------------------------------------------------------------
// Counters.

function loadCounterNames() {
  try {
    const names = JSON.parse(localStorage.getItem(COUNTERS_STORAGE) || '[]');
    return Array.isArray(names) ? names.filter((n) => typeof n === 'string' && n !== '') : [];
  } catch {
    return [];
  }
}
function saveCounterNames(names) {
  try {
    localStorage.setItem(COUNTERS_STORAGE, JSON.stringify(names));
  } catch {
    /* storage may be unavailable; the list then lasts only as long as the page */
  }
}

let counterNames = [];
const counterCards = new Map();

// The exact digits of "value" (JSON.parse would round numbers above 2^53).
async function counterValue(res) {
  const text = await res.text();
  const m = /"value"\s*:\s*(-?\d+)/.exec(text);
  if (m) return m[1];
  const parsed = JSON.parse(text);
  return String(parsed.value ?? 0);
}

function showCounters(entering) {
  counterNames = loadCounterNames();
  renderCounterList();
  if (entering) {
    for (const name of counterNames) refreshCounter(name);
    $('counters-title').focus({ preventScroll: true });
  }
}

function renderCounterList() {
  const ul = $('counter-list');
  const nodes = counterNames.map((name) => {
    let card = counterCards.get(name);
    if (!card) {
      card = buildCounterCard(name);
      counterCards.set(name, card);
    }
    return card.li;
  });
  ul.replaceChildren(...nodes);
  $('counter-empty').hidden = counterNames.length > 0;
}

function buildCounterCard(name) {
  const id = `c${Math.random().toString(36).slice(2, 10)}`;
  const value = h('p', { class: 'counter-value', text: '…' });
  const step = h('input', { type: 'number', id: `${id}-step`, value: '1', step: '1', inputMode: 'numeric' });
  const inc = h('button', { type: 'submit', class: 'btn primary', text: 'Increment' });
  const reset = h('button', { type: 'button', class: 'btn danger-ghost', text: 'Reset' });
  const remove = h('button', { type: 'button', class: 'btn', text: 'Hide' });
  remove.setAttribute('aria-label', `Stop showing the counter ${name} here`);
  remove.title = 'Stop showing it in this browser (the counter stays on the server)';
  const error = h('p', { class: 'counter-error', attrs: { role: 'alert' } });
  error.hidden = true;
  const controls = h('form', { class: 'counter-controls' },
    h('label', { class: 'visually-hidden', htmlFor: step.id, text: `Increment ${name} by` }),
    step, inc, reset, remove);
  const li = h('li', { class: 'counter' },
    h('div', {}, h('p', { class: 'counter-name', text: name }), value),
    controls, error);
  const card = { li, value, error };
  const showError = (err) => {
    error.textContent = describeError(err, { counter: name });
    error.hidden = false;
  };
  controls.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const by = step.value.trim() === '' ? '1' : step.value.trim();
    if (!/^-?\d+$/.test(by)) {
      error.textContent = 'The step must be a whole number.';
      error.hidden = false;
      step.focus();
      return;
    }
    inc.disabled = true;
    try {
      const res = await api('POST', `${seqUrl(name)}?${new URLSearchParams({ by })}`);
      value.textContent = formatBigCount(await counterValue(res));
    } catch (err) {
      showError(err);
    } finally {
      inc.disabled = false;
    }
  });
  reset.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: 'Reset this counter?',
      body: ['The counter ', h('strong', { text: name }), ' will go back to 0.'],
      confirmLabel: 'Reset counter',
    });
    if (!confirmed) return;
    error.hidden = true;
    try {
      await api('DELETE', seqUrl(name));
      value.textContent = '0';
      toast(`Reset ${quoted(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) value.textContent = '0';
      else showError(err);
    }
  });
  remove.addEventListener('click', () => {
    counterNames = counterNames.filter((n) => n !== name);
    saveCounterNames(counterNames);
    counterCards.delete(name);
    renderCounterList();
    $('counter-name').focus();
  });
  card.showError = showError;
  return card;
}

function formatBigCount(digits) {
  const negative = digits.startsWith('-');
  const abs = negative ? digits.slice(1) : digits;
  const grouped = abs.length <= 15 ? formatCount(Number(abs)) : abs;
  return negative ? `−${grouped}` : grouped;
}

async function refreshCounter(name) {
  const card = counterCards.get(name);
  if (!card) return;
  try {
    const res = await api('GET', seqUrl(name));
    card.value.textContent = formatBigCount(await counterValue(res));
    card.error.hidden = true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) card.value.textContent = '0';
    else card.showError(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Engine stats.

let statsTimer = null;
let statsGeneration = 0;

// The first present field among several spellings ("cache_hits" or "cache.hits").
function pick(obj, ...paths) {
  for (const path of paths) {
    let v = obj;
    for (const part of path.split('.')) v = v && typeof v === 'object' ? v[part] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function showStats(entering) {
  if (entering) {
    $('stats-title').focus({ preventScroll: true });
    loadStats();
  }
  scheduleStats();
}

function stopStats() {
  clearTimeout(statsTimer);
  statsTimer = null;
}

function scheduleStats() {
  stopStats();
  if (currentView !== 'stats' || !$('stats-auto').checked) return;
  statsTimer = setTimeout(async () => {
    if (!document.hidden) await loadStats();
    scheduleStats();
  }, STATS_INTERVAL_MS);
}

async function loadStats() {
  const generation = ++statsGeneration;
  try {
    const res = await api('GET', '/api/stats');
    const stats = await res.json();
    if (generation !== statsGeneration) return;
    $('stats-error').hidden = true;
    renderStats(stats);
    $('stats-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (generation !== statsGeneration) return;
    $('stats-error-text').textContent = describeError(err);
    $('stats-error').hidden = false;
  }
}

function card(title, big, sub, { meter, bad = false } = {}) {
  const node = h('div', { class: `card${bad ? ' bad' : ''}` },
    h('h3', { text: title }), h('p', { class: 'big', text: big }), sub ? h('p', { class: 'sub', text: sub }) : null);
  if (meter !== undefined) {
    const fill = h('span');
    fill.style.width = `${Math.max(0, Math.min(100, meter * 100)).toFixed(1)}%`;
    const bar = h('div', { class: 'meter' }, fill);
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', `${(meter * 100).toFixed(1)}%`);
    node.append(bar);
  }
  return node;
}

function renderStats(s) {
  const engine = s.engine && typeof s.engine === 'object' ? { ...s, ...s.engine } : s;
  const levels = Array.isArray(engine.levels) ? engine.levels : [];
  const levelFiles = levels.reduce((a, l) => a + Number(pick(l, 'files', 'num_files') || 0), 0);
  const levelBytes = levels.reduce((a, l) => a + Number(pick(l, 'bytes', 'size') || 0), 0);
  const hits = Number(pick(engine, 'cache_hits', 'cache.hits', 'block_cache.hits') || 0);
  const misses = Number(pick(engine, 'cache_misses', 'cache.misses', 'block_cache.misses') || 0);
  const lookups = hits + misses;
  const capacity = pick(engine, 'cache_capacity', 'cache.capacity', 'block_cache.capacity');
  const usage = pick(engine, 'cache_usage', 'cache.usage', 'block_cache.usage');
  const wa = Number(pick(engine, 'write_amplification', 'write_amp') || 0);
  const bgError = pick(engine, 'background_error') || '';
  const stalls = Number(pick(engine, 'slowdowns') || 0) + Number(pick(engine, 'stops') || 0);
  const stallMicros = Number(pick(engine, 'stall_micros') || 0);
  const frozen = Number(pick(engine, 'frozen_memtables') || 0);

  const cards = [
    card('Data on disk', formatBytes(pick(engine, 'live_sst_bytes') ?? levelBytes),
      `${formatCount(levelFiles)} SST ${levelFiles === 1 ? 'file' : 'files'} in ${levels.filter((l) => Number(pick(l, 'files', 'num_files') || 0) > 0).length} levels`),
    card('Cache hit rate', lookups ? `${((hits / lookups) * 100).toFixed(1)}%` : '—',
      `${formatCount(hits)} hits · ${formatCount(misses)} misses${capacity !== undefined ? ` · ${formatBytes(usage ?? 0)} of ${formatBytes(capacity)}` : ''}`,
      { meter: lookups ? hits / lookups : 0 }),
    card('Memtable', formatBytes(pick(engine, 'memtable_bytes', 'memtable.bytes') ?? 0),
      `${frozen} waiting to flush · WAL ${formatBytes(pick(engine, 'wal_bytes') ?? 0)}`),
    card('Compactions', formatCount(pick(engine, 'compactions', 'compaction.count') ?? 0),
      `read ${formatBytes(pick(engine, 'compaction_bytes_read') ?? 0)} · wrote ${formatBytes(pick(engine, 'compaction_bytes_written') ?? 0)}`),
    card('Flushes', formatCount(pick(engine, 'flushes') ?? 0),
      `wrote ${formatBytes(pick(engine, 'flush_bytes_written') ?? 0)}`),
    card('Write amplification', wa ? `${wa.toFixed(2)}×` : '—',
      `${formatBytes(pick(engine, 'user_bytes_written') ?? 0)} written by clients`),
    card('Write stalls', formatCount(stalls),
      `${formatCount(pick(engine, 'slowdowns') ?? 0)} slowed · ${formatCount(pick(engine, 'stops') ?? 0)} stopped · ${(stallMicros / 1e6).toFixed(1)} s`),
    card('Last sequence', formatCount(pick(engine, 'last_sequence') ?? 0), 'writes applied so far'),
  ];
  if (bgError) {
    cards.unshift(card('Engine error', 'Writes are failing', String(bgError), { bad: true }));
  }
  $('stats-cards').replaceChildren(...cards);

  // The HTTP side, when the server reports it ({"engine": ..., "server": ...}).
  const server = s.server && typeof s.server === 'object' ? s.server : null;
  $('server-section').hidden = server === null;
  if (server) {
    const byStatus = server.requests_by_status && typeof server.requests_by_status === 'object'
      ? server.requests_by_status : {};
    let clientErrors = 0;
    let serverErrors = 0;
    for (const [status, n] of Object.entries(byStatus)) {
      if (status.startsWith('4')) clientErrors += Number(n) || 0;
      if (status.startsWith('5')) serverErrors += Number(n) || 0;
    }
    const depth = Number(server.queue_depth || 0);
    const capacity = Number(server.queue_capacity || 0);
    const syncs = Number(server.wal_syncs || 0);
    const jobs = Number(server.storage_jobs || 0);
    const batches = Number(server.storage_batches || 0);
    $('server-cards').replaceChildren(
      card('Requests', formatCount(server.requests ?? 0),
        `${formatCount(clientErrors)} client errors · ${formatCount(serverErrors)} server errors`),
      card('Connections', formatCount(server.connections_open ?? 0),
        `open now · ${formatCount(server.connections_accepted ?? 0)} accepted in all`),
      card('Request queue', `${formatCount(depth)} / ${formatCount(capacity)}`,
        `${formatCount(server.queue_rejected ?? 0)} turned away (503)`,
        { meter: capacity ? depth / capacity : 0 }),
      card('Group commits', formatCount(syncs),
        `${batches ? (jobs / batches).toFixed(1) : '—'} requests per batch · ${formatCount(server.wal_sync_failures ?? 0)} failed syncs`,
        { bad: Number(server.wal_sync_failures || 0) > 0 }));
  }

  const maxBytes = Math.max(1, ...levels.map((l) => Number(pick(l, 'bytes', 'size') || 0)));
  const rows = levels.map((l, i) => {
    const bytes = Number(pick(l, 'bytes', 'size') || 0);
    const fill = h('span');
    fill.style.width = `${((bytes / maxBytes) * 100).toFixed(1)}%`;
    return h('tr', {},
      h('td', { text: `L${pick(l, 'level') ?? i}` }),
      h('td', { class: 'num', text: formatCount(pick(l, 'files', 'num_files') ?? 0) }),
      h('td', { class: 'num', text: formatBytes(bytes) }),
      h('td', { class: 'bar-cell' }, h('div', { class: 'bar' }, fill)));
  });
  if (rows.length === 0) {
    rows.push(h('tr', {}, h('td', { colSpan: 4, class: 'muted', text: 'No SST files yet: everything is still in the memtable.' })));
  }
  $('stats-levels').tBodies[0].replaceChildren(...rows);
  $('stats-raw').textContent = JSON.stringify(s, null, 2);
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function wire() {
  window.addEventListener('hashchange', route);

  // Filter: the listing's prefix becomes folder + typed text, fetched as you type.
  let filterTimer = null;
  const applyFilter = () => {
    clearTimeout(filterTimer);
    const value = $('filter').value;
    if (value === list.filter) return;
    list.filter = value;
    list.entries = [];
    loadList();
  };
  $('filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, 200);
  });
  $('filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilter();
  });
  $('filter').addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && $('filter').value !== '') {
      event.preventDefault();
      $('filter').value = '';
      applyFilter();
    } else if (event.key === 'ArrowDown') {
      const first = $('key-list').querySelector('a.row');
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  $('load-more').addEventListener('click', () => loadList({ more: true }));

  // Up/Down move between rows of the list.
  $('key-list').addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const rows = [...$('key-list').querySelectorAll('a.row')];
    const i = rows.indexOf(document.activeElement);
    if (i < 0) return;
    event.preventDefault();
    if (event.key === 'ArrowDown' && i + 1 < rows.length) rows[i + 1].focus();
    if (event.key === 'ArrowUp') (i > 0 ? rows[i - 1] : $('filter')).focus();
  });

  // "/" focuses the filter when not typing somewhere.
  document.addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
    const t = event.target;
    if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    if (currentView !== 'keys' || document.querySelector('dialog[open]')) return;
    event.preventDefault();
    $('filter').focus();
  });

  $('kv-delete').addEventListener('click', deleteOpenedKey);
  $('kv-raw').addEventListener('click', () => {
    opened.showRaw = !opened.showRaw;
    renderPreview();
  });
  for (const id of ['kv-edit', 'kv-download']) {
    $(id).addEventListener('click', (event) => {
      if ($(id).getAttribute('aria-disabled') === 'true') event.preventDefault();
    });
  }

  // Editor.
  $('editor').addEventListener('submit', (event) => {
    event.preventDefault();
    submitEditor();
  });
  $('ed-text').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $('editor').requestSubmit();
    }
  });
  $('ed-src-text').addEventListener('change', () => setSource('text'));
  $('ed-src-file').addEventListener('change', () => setSource('file'));
  $('ed-file').addEventListener('change', () => setFile($('ed-file').files[0] || null));
  $('ed-type').addEventListener('input', () => {
    editor.typeFromFile = false;
  });
  const drop = $('ed-drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) setFile(file);
  });
  $('ed-cancel').addEventListener('click', () => {
    editor.active = false;
  });

  // Counters.
  $('counter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('counter-name').value.trim();
    $('counter-error').hidden = true;
    if (name === '') {
      $('counter-error-text').textContent = 'Type the name of a counter to open.';
      $('counter-error').hidden = false;
      $('counter-name').focus();
      return;
    }
    if (!counterNames.includes(name)) {
      counterNames = [name, ...counterNames];
      saveCounterNames(counterNames);
    }
    renderCounterList();
    refreshCounter(name);
    $('counter-name').value = '';
  });

  // Stats.
  $('stats-refresh').addEventListener('click', loadStats);
  $('stats-auto').addEventListener('change', scheduleStats);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && currentView === 'stats') loadStats();
  });

  // Focus the new view's heading when the tabs switch views.
  for (const a of document.querySelectorAll('.tabs a')) {
    a.addEventListener('click', () => {
      if (a.dataset.view === 'keys') setTimeout(() => $('filter').focus({ preventScroll: true }), 0);
    });
  }
}

wire();
route();
